"""The authority's brief: the centre's own decisions, reviews, assisted admissions and cost, in one printable page."""
