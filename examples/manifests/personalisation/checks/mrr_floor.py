"""Verification for search-query-autocomplete: the ranking metric must stay above its floor."""

import json
import sys

data = json.load(sys.stdin)
mrr = data["metrics"].get("mrr_at_5")
checks = [
    {"name": "mrr_at_5 >= 0.30", "passed": mrr is not None and mrr >= 0.30, "value": mrr, "threshold": 0.30},
    {
        "name": "trained on search queries",
        "passed": any("search_queries" in d["uri"] for d in data["datasets"]),
    },
]
print(json.dumps({"passed": all(c["passed"] for c in checks), "checks": checks}))
