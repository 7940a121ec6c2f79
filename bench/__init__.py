"""City-scale benchmarks (issue "benchmarks"): each scenario measures the product and the
floor — the same work done by bare SQL through raw asyncpg + orjson — in one run."""
