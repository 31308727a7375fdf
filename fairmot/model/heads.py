"""The four FairMOT heads: heatmap, box size (ltrb), centre offset and re-ID embedding."""

from __future__ import annotations

from torch import Tensor, nn

# Heatmap logit bias at start: sigmoid(-2.19) ~= 0.1, CenterNet's prior for focal-loss stability.
HM_BIAS_INIT = -2.19


def build_head(cin: int, cout: int, head_conv: int, *, heatmap: bool) -> nn.Module:
    """conv3x3(cin->head_conv) + ReLU + conv1x1 (or one conv1x1 when head_conv is 0)."""
    head: nn.Module
    last = nn.Conv2d(head_conv or cin, cout, 1, bias=True)
    if head_conv > 0:
        head = nn.Sequential(
            nn.Conv2d(cin, head_conv, 3, padding=1, bias=True), nn.ReLU(inplace=True), last
        )
    else:
        head = last
    if heatmap and last.bias is not None:
        nn.init.constant_(last.bias, HM_BIAS_INIT)
    else:
        for module in head.modules():
            if isinstance(module, nn.Conv2d) and module.bias is not None:
                nn.init.zeros_(module.bias)
    return head


def add_heads(model: nn.Module, cin: int, heads: dict[str, int], head_conv: int) -> None:
    """Attach heads as attributes named after them (keys `hm.0.weight`, ... as the reference)."""
    for name, channels in heads.items():
        model.add_module(name, build_head(cin, channels, head_conv, heatmap=name == "hm"))


def run_heads(model: nn.Module, features: Tensor, names: list[str]) -> dict[str, Tensor]:
    return {name: model.get_submodule(name)(features) for name in names}
