"""The losses of RectiPy's ``Network.test`` (``loss="mse"``, ``"l1"``, ``"nll"``, ``"ce"``,
``"kld"``, ``"hinge"``), computed with NumPy as the torch.nn classes RectiPy 0.12.2 builds
(``MSELoss``, ``L1Loss``, ``NLLLoss``, ``CrossEntropyLoss``, ``KLDivLoss``,
``HingeEmbeddingLoss``) compute them, ``loss_kwargs`` being those classes' keyword arguments.

``input`` is the samples x width array of recorded outputs, ``target`` the targets as given
(any array ``np.asarray`` takes). Every loss is a sum of per-sample terms ``l_n`` divided,
for ``reduction="mean"``, by a sum of per-sample weights ``w_n``: the number of elements of
the sample's row for the element-wise losses, the class weight of its target for nll and ce.
That also defines the loss of one sample alone (``l_n / w_n``), which ``Network.test``
records with ``record_loss``.
"""

import warnings
from typing import Optional

import numpy as np

from .errors import InvalidArgument

_COMMON = ("size_average", "reduce", "reduction")
_OPTIONS = {
    "mse": _COMMON,
    "l1": _COMMON,
    "nll": _COMMON + ("weight", "ignore_index"),
    "ce": _COMMON + ("weight", "ignore_index", "label_smoothing"),
    "kld": _COMMON + ("log_target",),
    "hinge": _COMMON + ("margin",),
}
_TORCH_NAMES = {"mse": "MSELoss", "l1": "L1Loss", "nll": "NLLLoss", "ce": "CrossEntropyLoss", "kld": "KLDivLoss",
                "hinge": "HingeEmbeddingLoss"}
_ELEMENTWISE = ("mse", "l1", "kld", "hinge")


def _legacy_reduction(size_average, reduce) -> str:
    """torch's reading of the deprecated ``size_average`` / ``reduce`` (None counts as True)."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _log_softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - np.max(x, axis=1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))


class Loss:
    """One of RectiPy's losses with its ``loss_kwargs``: ``Loss("ce", {"label_smoothing": 0.1})``.

    ``loss(input, target)`` is the torch loss (a float, or the unreduced array for
    ``reduction="none"``); ``loss.per_sample(input, target)`` the loss of each sample (row of
    ``input``) alone; ``loss.check(shape, target)`` raises what ``loss`` would raise for an
    input of that shape, without computing anything.

    torch's rules kept: mse/l1 broadcast a target of another shape with a warning; kld warns
    that ``reduction="mean"`` divides by every element (``"batchmean"`` is the KL divergence);
    hinge takes the element itself where the target is not -1 and ``max(0, margin - x)`` where
    it is not 1 (both for any other value); nll and ce take class indices (an integer array,
    one per sample) whose value ``ignore_index`` (-100) counts for nothing; ce takes class
    probabilities instead when the target has the input's shape. Differences: any numeric
    target dtype is accepted where torch insists on float (mse, l1, kld, hinge).
    """

    def __init__(self, name: str, loss_kwargs: Optional[dict] = None):
        if name not in _OPTIONS:
            raise InvalidArgument(f"loss={name!r} is unknown (losses: {', '.join(repr(k) for k in _OPTIONS)})")
        kwargs = dict(loss_kwargs or {})
        unknown = [k for k in kwargs if k not in _OPTIONS[name]]
        if unknown:
            raise InvalidArgument(f"loss_kwargs {unknown} are not arguments of torch.nn.{_TORCH_NAMES[name]} "
                                  f"(it takes {', '.join(_OPTIONS[name])})")
        self.name = name
        reduction = kwargs.get("reduction", "mean")
        if kwargs.get("size_average") is not None or kwargs.get("reduce") is not None:
            reduction = _legacy_reduction(kwargs.get("size_average"), kwargs.get("reduce"))
        valid = ("mean", "sum", "none", "batchmean") if name == "kld" else ("mean", "sum", "none")
        if reduction not in valid:
            raise InvalidArgument(f"loss_kwargs: reduction={reduction!r} is not valid for {name!r} "
                                  f"(use {', '.join(repr(v) for v in valid)})")
        self.reduction = reduction
        self.margin = float(kwargs.get("margin", 1.0))
        self.log_target = bool(kwargs.get("log_target", False))
        self.ignore_index = int(kwargs.get("ignore_index", -100))
        self.label_smoothing = float(kwargs.get("label_smoothing", 0.0))
        if not 0.0 <= self.label_smoothing <= 1.0:
            raise InvalidArgument(f"loss_kwargs: label_smoothing must be in [0, 1]; got {self.label_smoothing}")
        weight = kwargs.get("weight")
        self.weight = None if weight is None else np.asarray(weight, dtype=np.float64).reshape(-1)

    # ---- checks -------------------------------------------------------------------------
    def check(self, shape: tuple, target, given: Optional[str] = None) -> None:
        """Raise InvalidArgument where ``self(input, target)`` would fail for an input of
        ``shape`` (samples x width): shapes that do not broadcast, class indices that are not
        integers, out of range or one too many or too few, a weight of the wrong length.
        ``given``: how messages name the targets (default: "targets of shape ...")."""
        target = np.asarray(target)
        if target.dtype.kind not in "biuf":
            raise InvalidArgument(f"test: targets must be numbers; got dtype {target.dtype}")
        if self.name in _ELEMENTWISE:
            try:
                np.broadcast_shapes(tuple(shape), target.shape)
            except ValueError:
                raise InvalidArgument(
                    f"test: {given or f'targets of shape {target.shape}'} do not broadcast against the recorded "
                    f"outputs {tuple(shape)} (one row per sample: the samples are taken every sampling_steps steps "
                    f"from cutoff on, as in run)") from None
            return
        samples, classes = shape
        if self.weight is not None and self.weight.shape[0] != classes:
            raise InvalidArgument(f"loss_kwargs: weight has {self.weight.shape[0]} values; the output has "
                                  f"{classes} classes")
        if self.name == "ce" and target.shape == tuple(shape):
            if target.dtype.kind != "f":
                raise InvalidArgument("test: ce targets of the output's shape are class probabilities and must be "
                                      "floating point (class indices: one integer per sample)")
            if self.ignore_index >= 0:
                raise InvalidArgument("loss_kwargs: ignore_index is not supported for class-probability targets")
            return
        if target.ndim != 1 or target.shape[0] != samples:
            raise InvalidArgument(
                f"test: {self.name} targets are class indices, one per sample: expected shape ({samples},); got "
                f"{target.shape}" + (" (or class probabilities of the output's shape)" if self.name == "ce" else ""))
        if target.dtype.kind not in "iu":
            raise InvalidArgument(f"test: {self.name} targets are class indices and must be integers; got dtype "
                                  f"{target.dtype}")
        bad = (target != self.ignore_index) & ((target < 0) | (target >= classes))
        if np.any(bad):
            raise InvalidArgument(f"test: target {target[bad][0]} is out of bounds (classes 0..{classes - 1})")

    # ---- the terms ------------------------------------------------------------------------
    def _elementwise(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The unreduced loss of the element-wise losses (shape: input and target broadcast)."""
        t = t.astype(np.float64, copy=False)
        if self.name in ("mse", "l1"):
            if t.shape != x.shape:
                warnings.warn(f"Using a target size ({t.shape}) that is different to the input size ({x.shape}). "
                              f"This will likely lead to incorrect results due to broadcasting. Please ensure they "
                              f"have the same size.", stacklevel=5)
            d = x - t
            return d * d if self.name == "mse" else np.abs(d)
        if self.name == "kld":
            if self.log_target:
                return np.exp(t) * (t - x)
            with np.errstate(divide="ignore", invalid="ignore"):
                t_log_t = np.where(t == 0.0, 0.0, t * np.log(t))
            return t_log_t - t * x
        x_b, t_b = np.broadcast_arrays(x, t)  # hinge
        return np.where(t_b != 1.0, np.maximum(self.margin - x_b, 0.0), 0.0) + np.where(t_b != -1.0, x_b, 0.0)

    def _class_terms(self, x: np.ndarray, t: np.ndarray):
        """``(l, w)``: per-sample loss terms and weights of nll and ce (zero for ignored samples)."""
        samples, classes = x.shape
        logp = _log_softmax(x) if self.name == "ce" else x
        cw = np.ones(classes) if self.weight is None else self.weight
        if self.name == "ce" and t.shape == x.shape:  # class probabilities
            p = t.astype(np.float64)
            if self.label_smoothing > 0.0:
                p = p * (1.0 - self.label_smoothing) + self.label_smoothing / classes
            return -np.sum(logp * p * cw, axis=1), np.ones(samples)
        kept = t != self.ignore_index
        idx = np.where(kept, t, 0).astype(np.int64)
        rows = np.arange(samples)
        w = np.where(kept, cw[idx], 0.0)
        l = np.where(kept, -cw[idx] * logp[rows, idx], 0.0)
        if self.name == "ce" and self.label_smoothing > 0.0:
            smooth = np.where(kept, -np.sum(logp * cw, axis=1), 0.0)
            l = (1.0 - self.label_smoothing) * l + (self.label_smoothing / classes) * smooth
        return l, w

    # ---- reductions -------------------------------------------------------------------------
    def __call__(self, input, target):
        """The loss of ``input`` (samples x width) against ``target``, reduced as
        ``reduction`` says: a float, or an array for ``"none"``."""
        x = np.asarray(input, dtype=np.float64)
        t = np.asarray(target)
        self.check(x.shape, t)
        if self.name in _ELEMENTWISE:
            if self.name == "kld" and self.reduction == "mean":
                warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support "
                              "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
                              "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
                              "major release.", stacklevel=2)
            u = self._elementwise(x, t)
            if self.reduction == "none":
                return u
            if self.reduction == "sum":
                return float(np.sum(u))
            if self.reduction == "batchmean":
                return float(np.sum(u) / x.shape[0])
            return float(np.mean(u)) if u.size else float("nan")
        l, w = self._class_terms(x, t)
        if self.reduction == "none":
            return l
        if self.reduction == "sum":
            return float(np.sum(l))
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.sum(l) / np.sum(w))

    def per_sample(self, input, target) -> np.ndarray:
        """The loss of every sample (row of ``input``) alone against its target, under the same
        loss and reduction: for the element-wise losses the row's elements reduced (the mean,
        or the sum for ``"sum"`` and ``"batchmean"``); for nll and ce ``l_n / w_n`` (``l_n``
        for ``"sum"``; NaN for an ignored sample under ``"mean"``, as torch gives for a batch
        with nothing to count). The mean of these is the loss where every sample counts the
        same (mse, l1, hinge, kld with ``"mean"``, unweighted nll and ce without ignored
        samples)."""
        if self.reduction == "none":
            raise InvalidArgument("loss_kwargs: reduction='none' gives no loss per sample")
        x = np.asarray(input, dtype=np.float64)
        t = np.asarray(target)
        self.check(x.shape, t)
        if self.name not in _ELEMENTWISE:
            l, w = self._class_terms(x, t)
            if self.reduction == "sum":
                return l
            with np.errstate(divide="ignore", invalid="ignore"):
                return l / w
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            u = self._elementwise(x, t)
        if u.ndim == 2 and u.shape[0] == x.shape[0]:
            return u.mean(axis=1) if self.reduction == "mean" else u.sum(axis=1)
        if x.shape[0] == 1:
            total = u.mean() if self.reduction == "mean" else u.sum()
            return np.array([total])
        raise InvalidArgument(f"record_loss: targets of shape {t.shape} give no loss per sample for outputs of "
                              f"shape {x.shape}; pass one target row per sample")
