"""Governance reads. Selectors own every select_related/prefetch_related/annotation; views and
serializers only read what these load."""

from .audit import AUDIT_ORDERING, audit_event_list
from .dod import DOD_SCORE_ORDERING, DodScore, dod_score, dod_score_models, dod_scores, model_dod_score
from .promotions import (
    TIMELINE_ORDERING,
    model_pending_promotions,
    production_at,
    promotion_detail,
    promotion_list,
    promotion_model,
    promotion_ordering,
    promotion_timeline,
)
from .work_items import (
    BOARD_COLUMN_LIMIT,
    COMMENT_ORDERING,
    DEFAULT_WORK_ITEM_SORT,
    WORK_ITEM_SORTS,
    BoardColumn,
    comment_detail,
    comment_list,
    model_open_work_items,
    work_item_board,
    work_item_detail,
    work_item_get,
    work_item_list,
)

__all__ = [
    "AUDIT_ORDERING",
    "BOARD_COLUMN_LIMIT",
    "COMMENT_ORDERING",
    "DEFAULT_WORK_ITEM_SORT",
    "DOD_SCORE_ORDERING",
    "TIMELINE_ORDERING",
    "WORK_ITEM_SORTS",
    "BoardColumn",
    "DodScore",
    "audit_event_list",
    "comment_detail",
    "comment_list",
    "dod_score",
    "dod_score_models",
    "dod_scores",
    "model_dod_score",
    "model_open_work_items",
    "model_pending_promotions",
    "production_at",
    "promotion_detail",
    "promotion_list",
    "promotion_model",
    "promotion_ordering",
    "promotion_timeline",
    "work_item_board",
    "work_item_detail",
    "work_item_get",
    "work_item_list",
]
