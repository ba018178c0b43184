"""The lessons, one click away: each preset is a set of config fields (the rest at defaults)
and, in the catalogues, a name (``preset.<id>.name``) and what to notice (``preset.<id>.notice``,
whose numbers ui/lessons.py measures on the result shown).
"""

from __future__ import annotations

import math

from core import NetworkConfig

#: s = 1/√L for a 50-layer residual network: the sum of 50 branches stays of order one. (The
#: residual lessons now use s = 1 around a normalised branch, whose sum grows linearly.)
DEEP_RESIDUAL_SCALE = round(1 / math.sqrt(50), 3)

PRESETS: dict[str, dict] = {
    # In the notes' order: the lesson sequence (ui/lessons.py) follows it.
    "zero_init": dict(activation="tanh", init="zeros"),
    # Width 500: n·σ² = 500 × 0.01² = 0.05 per layer, the classic figure (≈ 1e-13 at layer 10).
    "tanh_small": dict(activation="tanh", init="normal", init_std=0.01, width=500),
    "tanh_large": dict(activation="tanh", init="normal", init_std=1.0),
    "tanh_xavier": dict(activation="tanh", init="xavier_normal"),
    "relu_xavier": dict(activation="relu", init="xavier_normal"),
    "relu_he": dict(activation="relu", init="kaiming_normal"),
    "relu_overflow": dict(activation="relu", init="normal", init_std=1.0, depth=100),
    "orthogonal_linear": dict(activation="identity", init="orthogonal", depth=50),
    "bn_rescue": dict(activation="tanh", init="normal", init_std=0.01, width=500,
                      norm="batchnorm"),
    "bn_batch2": dict(activation="tanh", init="xavier_normal", norm="batchnorm", batch_size=2),
    "layernorm": dict(activation="tanh", init="normal", init_std=0.01, width=500,
                      norm="layernorm"),
    # Pre-activation blocks around a BatchNorm branch: each adds ≈ s²·σ_w²·E[relu(z)²] = 1.
    "residual_relu": dict(activation="relu", init="kaiming_normal", depth=50, residual=True,
                          norm="batchnorm"),
    "sigmoid": dict(activation="sigmoid", init="xavier_normal"),
    "scaled_sigmoid": dict(activation="scaled_sigmoid", init="xavier_normal"),
    "selu_lecun": dict(activation="selu", init="lecun_normal", depth=50),
    "raw_features": dict(activation="tanh", init="xavier_normal", input_dist="raw"),
    "raw_zscore": dict(activation="tanh", init="xavier_normal", input_dist="raw",
                       input_preprocess="zscore"),
}


def preset_config(preset_id: str, seed: int = 0) -> NetworkConfig:
    """The preset's config; the seed is kept so a class can share one draw."""
    return NetworkConfig(seed=seed, **PRESETS[preset_id])
