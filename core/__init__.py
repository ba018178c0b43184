"""Variance Lab's engine: a deep MLP at initialisation, forward and backward, layer by layer.

    from core import NetworkConfig, simulate
    result = simulate(NetworkConfig(depth=20, width=256, activation="tanh",
                                    init="xavier_normal", seed=0))
    result.layer_stats   # one row per layer (row 0 = the input)
    result.histograms    # per-layer histograms of preact, act, grad_out, grad_preact

NumPy, pandas and the standard library only; no global random state.
"""

from . import _allocator  # noqa: F401  (allocator thresholds: see its docstring)
from .activations import ACTIVATION_NAMES, ACTIVATIONS, Activation
from .budget import MAX_TRAIN_SECONDS, Cost, simulation_cost, step_cost, training_cost
from .config import (FIELD_SPECS, MAX_MEMORY_BYTES, MAX_RUN_SECONDS, ConfigError, FieldSpec,
                     NetworkConfig)
from .diagnose import Finding, backward_ratio, diagnose, forward_ratio
from .inits import INIT_NAMES, INITS, Init
from .query import (QueryProblem, config_from_params, config_to_params, decode_query,
                    encode_query, params_from_pairs)
from .simulate import (COLUMNS, HISTOGRAM_QUANTITIES, Histograms, SimulationResult, build_network,
                       simulate, simulate_depths)
from .datasets import Dataset, make_dataset
from .train import (HISTORY_COLUMNS, LAYER_HISTORY_COLUMNS, Snapshots, TrainResult, train)
from .train_config import TRAIN_FIELD_SPECS, TrainConfig, check_budget

__all__ = [
    "ACTIVATIONS", "ACTIVATION_NAMES", "Activation", "COLUMNS", "ConfigError", "Cost", "FIELD_SPECS",
    "FieldSpec", "Finding", "HISTOGRAM_QUANTITIES", "Histograms", "INITS", "INIT_NAMES", "Init",
    "MAX_MEMORY_BYTES", "MAX_RUN_SECONDS", "NetworkConfig", "QueryProblem", "SimulationResult",
    "backward_ratio", "build_network", "config_from_params", "config_to_params", "decode_query",
    "diagnose", "encode_query", "forward_ratio", "params_from_pairs", "simulate", "simulate_depths",
    "Dataset", "HISTORY_COLUMNS", "LAYER_HISTORY_COLUMNS", "Snapshots", "TRAIN_FIELD_SPECS",
    "TrainConfig", "TrainResult", "check_budget", "make_dataset", "train",
    "simulation_cost", "step_cost", "training_cost", "MAX_TRAIN_SECONDS",
]
