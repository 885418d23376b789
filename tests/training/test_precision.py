"""Training precision: bf16 autocast only where the CPU has it, and only when asked or auto."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from usguide.training.precision import (  # noqa: E402
    autocast,
    channels_last,
    cpu_flags,
    native_bf16,
    resolve_precision,
)

CPU = torch.device("cpu")


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse avx512f amx_bf16\nbogomips: 1\n")
    assert cpu_flags(cpuinfo) == {"fpu", "sse", "avx512f", "amx_bf16"}
    assert cpu_flags(tmp_path / "absent") == set()  # macOS, Windows: no /proc


def test_auto_picks_bf16_only_on_a_cpu_that_has_it():
    assert resolve_precision("auto", CPU, flags={"avx2", "fma"}) == "fp32"
    assert native_bf16({"avx2"}) is False
    has_it = native_bf16({"amx_bf16"})  # also needs torch's oneDNN to agree
    assert resolve_precision("auto", CPU, flags={"amx_bf16"}) == ("bf16" if has_it else "fp32")
    assert resolve_precision("auto", torch.device("cuda"), flags={"amx_bf16"}) == "fp32"
    assert resolve_precision("fp32", CPU, flags={"amx_bf16"}) == "fp32"
    assert resolve_precision("bf16", CPU, flags=set()) == "bf16"  # asked for: honoured
    with pytest.raises(ValueError, match="CPU only"):
        resolve_precision("bf16", torch.device("cuda"))
    with pytest.raises(ValueError, match="choose from auto, fp32, bf16"):
        resolve_precision("fp16", CPU)


def test_bf16_forward_keeps_float32_weights_and_close_outputs():
    from usguide.training.model import NeedleNet

    torch.manual_seed(0)
    model = NeedleNet(8).eval().to(memory_format=torch.channels_last)
    frames = torch.rand(2, 1, 64, 64).contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        exact = model.logits(frames)
        with autocast("bf16", CPU):
            rounded = model.logits(frames)
        with autocast("fp32", CPU):
            plain = model.logits(frames)
    assert rounded.dtype == torch.bfloat16 and plain.dtype == torch.float32
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert torch.equal(plain, exact)
    # bfloat16 keeps about 3 significant digits: the logits agree to a few hundredths.
    assert float((rounded.float() - exact).abs().max()) < 0.1
    assert channels_last(CPU) and not channels_last(torch.device("cuda"))
