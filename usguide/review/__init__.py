"""The trainer's review: metrics of a needle insertion from a session, and a report to hand over."""
