"""pct-tropes-2024: Revealing Fine-Grained Values and Opinions in Large Language Models

The protocol is protocol.py, named on the card ([protocol] run)."""
