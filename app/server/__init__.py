"""``vidmimic serve``: upload a video, follow its job, view and download the results."""
