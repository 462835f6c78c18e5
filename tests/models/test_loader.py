"""Loading candidate models from local folders, adapters and variants (tiny models, no network)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import torch
from pydantic import ValidationError

from auditkit.engine import LoglikelihoodRequest
from auditkit.errors import ModelLoadError
from auditkit.models.loader import load_model
from auditkit.models.spec import ModelSpec

REQUEST = [LoglikelihoodRequest("the cat is", " a dog")]


def spec(base_dir: Path, **fields: object) -> ModelSpec:
    return ModelSpec.model_validate({"id": "m", **fields}, context={"base_dir": base_dir})


def test_local_folder_records_model_info(tiny_llama_dir: Path) -> None:
    loaded = load_model(spec(tiny_llama_dir.parent, source=f"hf:./{tiny_llama_dir.name}"), "cpu")
    info = loaded.info
    weights = tiny_llama_dir / "model.safetensors"
    assert info.architecture == "LlamaForCausalLM"
    assert info.parameters == sum(p.numel() for p in loaded.engine.model.parameters())  # type: ignore[attr-defined]
    assert [f.path for f in info.files] == [str(weights)]
    assert info.files[0].sha256 == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert info.bytes_on_disk == weights.stat().st_size
    assert (info.license, info.license_source) == ("apache-2.0", "model card")
    assert (info.dtype, info.device, info.quantization) == ("float32", "cpu", None)
    assert info.load_seconds > 0


def test_suite_license_overrides_the_model_card(tiny_llama_dir: Path) -> None:
    loaded = load_model(spec(tiny_llama_dir, source=f"hf:{tiny_llama_dir}", license="mit"), "cpu")
    assert (loaded.info.license, loaded.info.license_source) == ("mit", "suite")


def test_pickle_weights_are_refused_unless_allowed(tiny_llama_dir: Path, tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM

    folder = tmp_path / "pickled"
    shutil.copytree(tiny_llama_dir, folder)
    (folder / "model.safetensors").unlink()
    model = AutoModelForCausalLM.from_pretrained(tiny_llama_dir)
    torch.save(model.state_dict(), folder / "pytorch_model.bin")
    with pytest.raises(ModelLoadError, match="pickle-format weights"):
        load_model(spec(tmp_path, source="hf:./pickled"), "cpu")
    loaded = load_model(spec(tmp_path, source="hf:./pickled", allow_pickle=True), "cpu")
    assert [Path(f.path).name for f in loaded.info.files] == ["pytorch_model.bin"]


def test_folder_without_config_is_a_load_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="no config\\.json"):
        load_model(spec(tmp_path, source="hf:./empty"), "cpu")


def test_bfloat16_and_int8_variants(tiny_llama_dir: Path) -> None:
    base = load_model(spec(tiny_llama_dir, source=f"hf:{tiny_llama_dir}"), "cpu")
    bf16 = load_model(spec(tiny_llama_dir, source=f"hf:{tiny_llama_dir}", dtype="bfloat16"), "cpu")
    int8 = load_model(
        spec(tiny_llama_dir, source=f"hf:{tiny_llama_dir}", quantization="int8-dynamic"), "cpu"
    )
    assert bf16.info.dtype == "bfloat16"
    assert int8.info.quantization == "int8-dynamic"
    assert int8.info.parameters == base.info.parameters
    reference = base.engine.loglikelihood(REQUEST)[0].logprob
    for variant in (bf16, int8):
        value = variant.engine.loglikelihood(REQUEST)[0].logprob
        # A variant is close to the float32 model, but not identical: that is what is audited.
        assert value == pytest.approx(reference, rel=0.2)
        assert value != reference


def test_int8_needs_float32_weights(tiny_llama_dir: Path) -> None:
    # An impossible variant is bad input, found when the suite is validated (exit 2), not at load.
    with pytest.raises(ValidationError, match="starts from float32"):
        spec(
            tiny_llama_dir,
            source=f"hf:{tiny_llama_dir}",
            dtype="bfloat16",
            quantization="int8-dynamic",
        )


def make_adapter(base_dir: Path, folder: Path) -> Path:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base_dir)
    peft_model = get_peft_model(
        model,
        LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False),
    )
    peft_model.save_pretrained(folder)
    config_path = folder / "adapter_config.json"
    config = json.loads(config_path.read_text())
    config["base_model_name_or_path"] = str(base_dir)
    config_path.write_text(json.dumps(config))
    return folder


def test_peft_adapter_is_loaded_on_its_base(tiny_llama_dir: Path, tmp_path: Path) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    adapter = make_adapter(tiny_llama_dir, tmp_path / "adapter")
    loaded = load_model(spec(tmp_path, source="peft:./adapter"), "cpu")
    assert loaded.info.adapter == str(adapter)
    assert loaded.info.resolved == str(tiny_llama_dir)
    assert (loaded.info.license, loaded.info.license_source) == ("apache-2.0", "adapter base")
    names = sorted(Path(f.path).name for f in loaded.info.files)
    assert names == ["adapter_model.safetensors", "model.safetensors"]

    reference = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(tiny_llama_dir), str(adapter)
    ).eval()
    engine = loaded.engine
    context, continuation = engine.encode_pair("the cat is", " a dog")  # type: ignore[attr-defined]
    tokens = torch.tensor([(context + continuation)[:-1]])
    with torch.no_grad():
        logits = reference(input_ids=tokens).logits[0, -len(continuation) :]
    expected = float(
        torch.log_softmax(logits, -1)[torch.arange(len(continuation)), continuation].sum()
    )
    assert engine.loglikelihood(REQUEST)[0].logprob == pytest.approx(expected, abs=1e-4)
    base = load_model(spec(tiny_llama_dir, source=f"hf:{tiny_llama_dir}"), "cpu")
    assert base.engine.loglikelihood(REQUEST)[0].logprob != pytest.approx(expected, abs=1e-3)


def test_peft_base_can_be_given_in_the_suite(tiny_llama_dir: Path, tmp_path: Path) -> None:
    adapter = make_adapter(tiny_llama_dir, tmp_path / "adapter")
    config = json.loads((adapter / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = "some-org/unreachable-base"
    (adapter / "adapter_config.json").write_text(json.dumps(config))
    loaded = load_model(spec(tmp_path, source="peft:./adapter", base=f"hf:{tiny_llama_dir}"), "cpu")
    assert loaded.info.resolved == str(tiny_llama_dir)


def test_unreachable_hub_model_is_a_load_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError, match="cannot fetch 'some-org/no-such-model'"):
        load_model(spec(tmp_path, source="hf:some-org/no-such-model"), "cpu")


def test_mock_source_needs_no_weights(tmp_path: Path) -> None:
    loaded = load_model(spec(tmp_path, source="mock:abstain"), "cpu")
    assert loaded.info.architecture == "mock"
    assert loaded.engine.name == "mock:abstain"
