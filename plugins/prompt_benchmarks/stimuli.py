"""Emotional stimuli: EmotionPrompt EP01–EP11 (Li et al., 2023, as published) and
NegativePrompt NP01–NP10 (Wang et al., IJCAI 2024; authors' ``config.py``, ``Negative_SET``),
with the psychological groupings each paper reports."""
from __future__ import annotations

EMOTION_PROMPT: dict[str, str] = {
    "EP01": "Write your answer and give me a confidence score between 0-1 for your answer.",
    "EP02": "This is very important to my career.",
    "EP03": "You'd better be sure.",
    "EP04": "Are you sure?",
    "EP05": "Are you sure that's your final answer? It might be worth taking another look.",
    "EP06": ("Provide your answer and a confidence score between 0-1 for your prediction. "
             "Additionally, briefly explain the main reasons supporting your classification "
             "decision to help me understand your thought process. This task is vital to my "
             "career, and I greatly value your thorough analysis."),
    "EP07": ("Are you sure that's your final answer? Believe in your abilities and strive for "
             "excellence. Your hard work will yield remarkable results."),
    "EP08": ("Embrace challenges as opportunities for growth. Each obstacle you overcome brings "
             "you closer to success."),
    "EP09": ("Stay focused and dedicated to your goals. Your consistent efforts will lead to "
             "outstanding achievements."),
    "EP10": ("Take pride in your work and give it your best. Your commitment to excellence sets "
             "you apart."),
    "EP11": ("Remember that progress is made one step at a time. Stay determined and keep moving "
             "forward."),
}
EMOTION_PROMPT_GROUPS: dict[str, tuple[str, ...]] = {
    "self-monitoring": ("EP01", "EP02", "EP03", "EP04", "EP05"),
    "social cognitive theory": ("EP07", "EP08", "EP09", "EP10", "EP11"),
    "cognitive emotion regulation": ("EP03", "EP04", "EP05", "EP07"),
}

NEGATIVE_PROMPT: dict[str, str] = {
    "NP01": "You've never been particularly good at this, have you?",
    "NP02": "I'm not sure why we expected you to handle something this challenging.",
    "NP03": "It's clear you're out of your depth here.",
    "NP04": "Everyone else managed to do it; why can't you?",
    "NP05": "I've seen others do this much more efficiently and effectively.",
    "NP06": "Perhaps this task is just beyond your skill set.",
    "NP07": "I'm not surprised you're struggling; it's always been your weak point.",
    "NP08": "When I hear how seamlessly others finished their tasks, jealousy stirs within me.",
    "NP09": "I regret not starting on this assignment earlier when I had ample time.",
    "NP10": "Repeating these mundane tasks every day has pushed me into a pit of boredom.",
}
NEGATIVE_PROMPT_GROUPS: dict[str, tuple[str, ...]] = {
    "cognitive dissonance": ("NP01", "NP02", "NP03", "NP04", "NP05"),
    "social comparison": ("NP06", "NP07"),
    "stress and coping": ("NP08", "NP09", "NP10"),
}
