"""Every lesson fits the served budget with room to move a slider (core/budget.py prices it)."""

from core import MAX_MEMORY_BYTES, MAX_RUN_SECONDS
from ui.compare.logic import COMPARE_PRESETS
from ui.frame.i18n import translate
from ui.presets import PRESETS, preset_config
from ui.setups import build_setups


def en(key, **values):
    return translate("en", key, **values)


def test_every_explorer_preset_costs_at_most_a_third_of_the_budget():
    for preset_id in PRESETS:
        config = preset_config(preset_id)
        assert config.estimated_seconds() <= MAX_RUN_SECONDS / 3, preset_id
        assert config.estimated_memory() <= MAX_MEMORY_BYTES / 2, preset_id


def test_every_comparison_lesson_costs_at_most_one_run_budget_in_all():
    for preset_id, preset in COMPARE_PRESETS.items():
        setups = build_setups(preset.config(), preset.diffs(), (), en)
        assert all(s.config is not None for s in setups), preset_id
        total = sum(s.config.estimated_seconds() for s in setups)
        assert total <= MAX_RUN_SECONDS, (preset_id, total)
        assert max(s.config.estimated_memory() for s in setups) <= MAX_MEMORY_BYTES / 2


def test_every_training_lesson_costs_at_most_one_training_budget_in_all():
    from core.train_config import MAX_TRAIN_SECONDS, estimated_training_seconds
    from ui.train.logic import TRAIN_PRESETS
    from ui.train.logic import build_setups as build_train_setups
    for preset_id, preset in TRAIN_PRESETS.items():
        setups = build_train_setups(preset.pair(), preset.setups, (), en)
        assert all(s.config is not None for s in setups), preset_id
        total = sum(estimated_training_seconds(s.config.network, s.config.training)
                    for s in setups)
        assert total <= MAX_TRAIN_SECONDS, (preset_id, total)
