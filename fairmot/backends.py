"""Where the network runs: torch (CPU, or CUDA with fp16 autocast) or onnxruntime, one interface.

A `Network` takes letterboxed uint8 BGR images (what `FramePipeline.prepare` makes) and returns
the head outputs as float32 torch tensors (`hm` logits, `wh`, `reg`, `id`), so decoding and
tracking never know which runtime produced them. `load_network` picks the runtime:
`backend="auto"` runs an .onnx file on onnxruntime and, on a CPU, a PyTorch artifact on
onnxruntime too when it is installed (measured faster by bench/model.py); otherwise torch.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import torch
from torch import Tensor, nn

from fairmot.model import ArtifactError, LoadedModel, ModelCard, load_artifact
from fairmot.model.artifact import parse_card

Backend = Literal["auto", "torch", "onnxruntime"]
BACKENDS: tuple[str, ...] = ("auto", "torch", "onnxruntime")
HEAD_ORDER = ("hm", "wh", "reg", "id")
# Opset 16 is the first with GridSample, which the pure-PyTorch deformable conv uses.
DEFAULT_OPSET = 17
# The ONNX metadata key holding the model card, so an exported file is a complete model.
CARD_METADATA_KEY = "fairmot.card"


class BackendError(ValueError):
    """A backend that cannot run here or cannot run this model: the message says why."""


class Network(Protocol):
    """A runnable network: letterboxed uint8 BGR images in, head outputs out."""

    card: ModelCard
    name: str
    device: torch.device

    def __call__(self, images: Sequence[np.ndarray]) -> dict[str, Tensor]: ...


def resolve_device(device: str | torch.device) -> torch.device:
    """`auto` is the first CUDA device when there is one, else the CPU."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class TorchNetwork:
    """A PyTorch network. On CUDA it runs under fp16 autocast (tensor cores; outputs come back
    as float32); on a CPU in channels_last, which measured 25-40% faster (lite, dla34_plain)."""

    def __init__(
        self,
        loaded: LoadedModel,
        device: str | torch.device = "cpu",
        *,
        channels_last: bool | None = None,
        fp16: bool | None = None,
    ) -> None:
        self.card = loaded.card
        self.device = resolve_device(device)
        # An NHWC input alone gets nearly all of the gain, so the caller's model (the live
        # network, during training's validation) keeps its memory format.
        self.channels_last = self.device.type == "cpu" if channels_last is None else channels_last
        self.fp16 = self.device.type == "cuda" if fp16 is None else fp16
        self.model = loaded.model.to(self.device).eval()
        self.name = "torch-fp16" if self.fp16 else "torch"

    def network_input(self, images: Sequence[np.ndarray]) -> Tensor:
        """Letterboxed BGR uint8 images -> (B,3,H,W) float RGB in [0,1] on the device.

        The same values as `fairmot.letterbox.to_network_input`, but converted in torch after
        the copy: a quarter of the bytes cross to a GPU, and torch's vectorised kernels do it in
        a fraction of numpy's time on a CPU.
        """
        batch = torch.from_numpy(np.stack(images)).to(self.device, non_blocking=True)
        # NHWC permuted to NCHW is already channels_last in memory.
        batch = batch.permute(0, 3, 1, 2).flip(1).float().div_(255.0)
        memory_format = torch.channels_last if self.channels_last else torch.contiguous_format
        return batch.contiguous(memory_format=memory_format)

    def __call__(self, images: Sequence[np.ndarray]) -> dict[str, Tensor]:
        autocast = (
            torch.autocast(self.device.type, dtype=torch.float16)
            if self.fp16
            else contextlib.nullcontext()
        )
        with torch.inference_mode(), autocast:
            outputs = self.model(self.network_input(images))
        return {name: value.float() for name, value in outputs.items()}


class _TupleOutputs(nn.Module):
    """ONNX graphs have positional outputs: return the heads in a fixed order."""

    def __init__(self, model: nn.Module, heads: tuple[str, ...]) -> None:
        super().__init__()
        self.model = model
        self.heads = heads

    def forward(self, x: Tensor) -> tuple[Tensor, ...]:
        out = self.model(x)
        return tuple(out[name] for name in self.heads)


def onnx_bytes(loaded: LoadedModel, width: int, height: int, opset: int = DEFAULT_OPSET) -> bytes:
    """The network as a serialised ONNX model (input `input` (B,3,H,W) float32 RGB/255, outputs
    HEAD_ORDER, dynamic batch) with its card, for this input size, in the metadata."""
    import onnx

    from fairmot.model.dcn import DCN

    model = loaded.model.to("cpu").eval()
    for module in model.modules():
        if isinstance(module, DCN):
            module.backend = "torch"  # torchvision's custom op has no ONNX symbolic
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice
        torch.onnx.export(
            _TupleOutputs(model, HEAD_ORDER).eval(),
            (torch.rand(1, 3, height, width),),
            buffer,  # type: ignore[arg-type]  # torch documents file-like objects; stubs lag
            input_names=["input"],
            output_names=list(HEAD_ORDER),
            dynamic_axes={name: {0: "batch"} for name in ("input", *HEAD_ORDER)},
            opset_version=opset,
            dynamo=False,
        )
    graph = onnx.load_from_string(buffer.getvalue())
    card = loaded.card.model_copy(update={"input_w": width, "input_h": height})
    entry = graph.metadata_props.add()
    entry.key, entry.value = CARD_METADATA_KEY, card.model_dump_json()
    return graph.SerializeToString()


def onnxruntime_available() -> bool:
    """Whether onnxruntime imports here."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


class OnnxNetwork:
    """An ONNX model on onnxruntime: CUDA through its CUDA provider where that exists, else CPU.

    `spinning=False` stops idle intra-op threads from busy-waiting, the onnxruntime twin of
    OMP_WAIT_POLICY=PASSIVE: decode and encode threads need those cycles.
    """

    def __init__(
        self,
        model: bytes | Path,
        card: ModelCard | None = None,
        device: str | torch.device = "cpu",
        *,
        threads: int | None = None,
        spinning: bool = False,
    ) -> None:
        if not onnxruntime_available():
            raise BackendError("backend onnxruntime is not installed (pip install onnxruntime)")
        import onnxruntime as ort

        self.device = resolve_device(device)
        providers = ["CPUExecutionProvider"]
        if self.device.type == "cuda":
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise BackendError(
                    "backend onnxruntime has no CUDA provider here (pip install onnxruntime-gpu), "
                    "or use --device cpu"
                )
            providers.insert(0, "CUDAExecutionProvider")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.add_session_config_entry(
            "session.intra_op.allow_spinning", "1" if spinning else "0"
        )
        source = str(model) if isinstance(model, Path) else model
        try:
            self.session = ort.InferenceSession(source, options, providers=providers)
        except Exception as error:  # onnxruntime raises its own untyped errors
            where = model if isinstance(model, Path) else "the model"
            raise BackendError(f"onnxruntime cannot load {where}: {_first_line(error)}") from None
        self.card = card or _card_from_metadata(self.session, model)
        self.name = "onnxruntime"

    def __call__(self, images: Sequence[np.ndarray]) -> dict[str, Tensor]:
        # Same conversion as TorchNetwork.network_input (torch's kernels beat numpy's here).
        batch = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).flip(1).float().div_(255.0)
        outputs = self.session.run(None, {"input": batch.contiguous().numpy()})
        # Decoding runs where the outputs are: on the CPU, whichever provider ran the graph.
        return {
            name: torch.from_numpy(value) for name, value in zip(HEAD_ORDER, outputs, strict=True)
        }


def _card_from_metadata(session: Any, source: object) -> ModelCard:
    metadata = session.get_modelmeta().custom_metadata_map
    if CARD_METADATA_KEY not in metadata:
        raise BackendError(
            f"{source} has no model card in its metadata: export it with `fairmot export`"
        )
    return parse_card(metadata[CARD_METADATA_KEY], f"{source}:{CARD_METADATA_KEY}")


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__


# What a model path may be, besides a model folder.
MODEL_SUFFIXES = (".tar.gz", ".tgz", ".pt", ".pth", ".onnx")


def check_model_path(path: Path) -> None:
    """ArtifactError unless `path` is a folder or names a model file type (`fake.mp4` is not)."""
    if path.is_dir():
        return
    if not path.exists():
        raise ArtifactError(f"model {path} does not exist")
    if not path.name.lower().endswith(MODEL_SUFFIXES):
        raise ArtifactError(
            f"{path} is not a model: give a model folder (model.pt + model.json), model.tar.gz, "
            "a .pt/.pth checkpoint or an exported .onnx"
        )


def choose_backend(backend: str, path: Path, device: torch.device) -> str:
    """The backend `auto` stands for, or a BackendError for a combination that cannot run."""
    if backend not in BACKENDS:
        raise BackendError(f"unknown backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    is_onnx = path.suffix.lower() == ".onnx"
    if is_onnx and backend == "torch":
        raise BackendError(f"{path} is an ONNX model: it runs on backend onnxruntime only")
    if backend != "auto":
        return backend
    if is_onnx:
        return "onnxruntime"
    # On a CPU onnxruntime measured faster than torch (bench/model.py, one thread: lite at
    # 576x320 1.3-1.6x eager, dla34_plain even); on a GPU torch's fp16 autocast is the tuned path.
    return "onnxruntime" if device.type == "cpu" and onnxruntime_available() else "torch"


def load_network(
    path: str | Path,
    *,
    backend: str = "auto",
    device: str | torch.device = "auto",
    threads: int | None = None,
) -> Network:
    """Load a model (model dir, model.tar.gz, .pt/.pth or .onnx) on a backend and device.

    Raises BackendError for an unknown or unavailable backend and fairmot.model.ArtifactError
    for a model that cannot be read.
    """
    path = Path(path)
    resolved = resolve_device(device)
    chosen = choose_backend(backend, path, resolved)
    check_model_path(path)
    if path.suffix.lower() == ".onnx":
        return OnnxNetwork(path, device=resolved, threads=threads)
    loaded = load_artifact(path, device="cpu")
    if chosen == "onnxruntime":
        graph = onnx_bytes(loaded, loaded.card.input_w, loaded.card.input_h)
        return OnnxNetwork(graph, loaded.card, resolved, threads=threads)
    return TorchNetwork(loaded, resolved)
