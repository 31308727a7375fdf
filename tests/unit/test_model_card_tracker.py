"""The model card records the tracker settings its metrics were measured with."""

import pydantic
import pytest

from fairmot.model import ModelCard
from fairmot.tracking import FairByteConfig, config_from_mapping, config_to_mapping
from fairmot.train.hparams import TrainConfig
from fairmot.train.loop import make_card


def test_a_trained_models_card_holds_its_validation_tracker():
    config = TrainConfig.from_strings(
        {
            "arch": "lite",
            "input_w": "160",
            "input_h": "96",
            "conf_thres": "0.3",
            "track_buffer": "45",
        }
    )
    card = ModelCard.model_validate_json(make_card(config, num_ids=5).model_dump_json())
    assert card.tracker is not None
    # fairbyte, the default, with the job's track_buffer; conf_thres stays a card hyperparameter.
    assert config_from_mapping(card.tracker) == FairByteConfig(track_buffer=45)
    assert card.hyperparameters["conf_thres"] == "0.3"


def test_cards_without_a_tracker_still_load_and_any_tracker_config_round_trips():
    assert ModelCard(arch="lite").tracker is None
    mapping = config_to_mapping(FairByteConfig(high_thres=0.4))
    card = ModelCard(arch="lite", tracker=mapping)
    assert config_from_mapping(ModelCard.model_validate_json(card.model_dump_json()).tracker) == (
        FairByteConfig(high_thres=0.4)
    )


def test_a_bad_tracker_in_a_card_names_the_key():
    with pytest.raises(pydantic.ValidationError, match="unknown key 'hi_thres'"):
        ModelCard(arch="lite", tracker={"tracker_type": "fairbyte", "hi_thres": 0.4})
