"""Demo and load-test content for the catalog: `manage.py seed_demo` calls these.

- `demo_catalog_seed`: a believable organisation built through the catalog services (idempotent).
- `demo_scale_generate`: N synthetic models through bulk inserts, for performance work.
"""

from .bulk import ScaleResult, ScaleShape, demo_scale_generate
from .content import DEMO_PASSWORD, DEMO_URL, USERS
from .seed import SeedResult, demo_catalog_seed, progress_silent

__all__ = [
    "DEMO_PASSWORD",
    "DEMO_URL",
    "USERS",
    "ScaleResult",
    "ScaleShape",
    "SeedResult",
    "demo_catalog_seed",
    "demo_scale_generate",
    "progress_silent",
]
