"""negativeprompt-2024: NegativePrompt: Leveraging Psychology for Large Language Models Enhancement via Negative Emotional Stimuli

The protocol is protocol.py, named on the card ([protocol] run)."""
