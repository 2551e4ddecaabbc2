"""Names shared by the threshold_rnns study's computation, claims and figures: each defined once.

Array and axis names are the keys of ``data.npz``; figure names are the PNG files in the results folder.
"""

# data.npz axes and arrays
DESIGN = "design"
DESIGN_LEARNED = "design_learned"
FRACTION_STILL_CORRECT = "fraction_still_correct"
LEARN_LOSS = "learn_loss"
LEARN_SUCCESS = "learn_success"
LOG_STEP = "log_step"
MARGIN = "margin"
MUTATION_CORRECT = "mutation_correct"
MUTATION_VALUE = "mutation_value"
SCALE = "scale"
SCHEDULE = "schedule"
SEED = "seed"
SEED_WEIGHT_VALUE = "seed_weight_value"
WEIGHT_NAME = "weight_name"
WEIGHT_SLOT = "weight_slot"

# figures
FIG_AUTOMATA = "automata.png"
FIG_LEARNING = "learning.png"
FIG_MARGINS = "margins.png"
FIG_MUTATIONS = "mutations.png"
