"""Built-in component plugins: metrics, models and feature extractors not tied to one paper."""
