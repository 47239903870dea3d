"""emotionprompt-2023: Large Language Models Understand and Can be Enhanced by Emotional Stimuli

The protocol is protocol.py, named on the card ([protocol] run)."""
