"""The report's own prose: the homework's parts, equations, derivations, captions, exercises, glossary.

Everything here is about the homework and how to read the report, never a result: results (verdicts,
numbers, takeaways, what was run, caveats) come from the studies' ``summary.json``. Mathematics is
written as LaTeX between ``$...$`` (inline) or ``$$...$$`` (display); the page turns it into MathML.
"""

from __future__ import annotations

# Which study settles which claim (a claim found in another study's summary is ignored).
STUDIES = ("gradient_decay", "skip_connections", "clipping", "teacher_forcing", "decoding", "threshold_rnns",
           "spectral")
CLAIM_STUDY = {"C1": "gradient_decay", "C2": "gradient_decay", "C3": "gradient_decay", "C4": "skip_connections",
               "C5a": "clipping", "C5b": "clipping", "C6": "teacher_forcing", "C7": "teacher_forcing",
               "C8": "teacher_forcing", "C9": "decoding", "C10": "decoding", "C11": "decoding",
               "C12": "threshold_rnns", "C13": "threshold_rnns"}

# The seed's claims (../shared/seed/PROBLEMS.md), in the sheet's words, condensed.
CLAIMS = {
    "C1": "max sigmoid' = 1/4, attained only at 0 (tanh': max 1 at 0).",
    "C2": "|w| < 4 makes the gradient vanish at least geometrically, whatever the inputs and initial state.",
    "C3": "With |w| > 4, dL/dh_0 = dL/dh_T w^T (1/4)^T -> infinity: the gradient explodes.",
    "C4": "A skip connection makes the gradient a sum over paths, some with fewer factors: vanishing is weaker.",
    "C5a": "Norm clipping keeps the gradient's direction, value clipping changes it; both change its size.",
    "C5b": "(Implied) Norm clipping is the better choice for training.",
    "C6": "Without teacher forcing, early mistakes compound and training converges badly or slowly.",
    "C7": "Exposure bias: at test time the model consumes its own outputs, never seen in training, so errors "
          "accumulate along the sequence.",
    "C8": "Scheduled sampling (feed the truth with a decaying probability) reduces exposure bias.",
    "C9": "Too large a beam gives generic, safe sequences (and costs more); too small a beam misses the most "
          "probable sequence (search error).",
    "C10": "Top-k sampling with k = 1 is greedy; with k = V it is pure sampling.",
    "C11": "Smaller k: less diversity, fewer nonsensical sequences; larger k: more diversity, more nonsense.",
    "C12": "The scalar threshold RNN (w1 = -1, w2 = 1, b2 = 0.5, w3 = -1, b3 = 0.5) outputs 1 iff all inputs so "
           "far are 1.",
    "C13": "The two-unit threshold RNN with fed-back output outputs 1 iff the two sequences agree so far.",
}

# The claims in a few words, for the front table (the sections quote the sheet).
SHORT = {
    "C1": "max sigmoid' = 1/4, only at 0",
    "C2": "|w| < 4: the gradient vanishes geometrically",
    "C3": "|w| > 4: the gradient explodes",
    "C4": "a skip connection weakens vanishing",
    "C5a": "norm clipping keeps the direction, value clipping does not",
    "C5b": "norm clipping trains better",
    "C6": "without teacher forcing, training converges badly or slowly",
    "C7": "exposure bias: errors accumulate along the output",
    "C8": "scheduled sampling reduces exposure bias",
    "C9": "too large a beam: generic output; too small: search error",
    "C10": "top-k: k = 1 is greedy, k = V is pure sampling",
    "C11": "smaller k: less diversity, less nonsense",
    "C12": "the scalar threshold RNN's weights are correct",
    "C13": "the two-unit threshold RNN's weights are correct",
}

INTRO = (
    "This handout checks, by experiment and by proof, every claim of a homework answer sheet on training "
    "recurrent networks (vanishing gradients, clipping, teacher forcing, decoding, threshold RNNs). "
    "It follows the homework part by part: what the sheet said, what was run, what the numbers say, and what "
    "to correct in the answer."
)

HOW_TO_READ = [
    "**Proved or measured.** Some claims are exact: a proof or a computation at every point of a grid "
    "(1c, 1d, 1e's geometry, 4a, 4b). One counterexample refutes them, none confirms; their numbers are counts "
    "(\"0 of N points\"), not samples. The other claims are measured on trained networks or random "
    "samples, and carry a 95 % interval.",
    "**A 95 % interval**, for example 0.13 [0.12, 0.15] (n = 10), says: the number measured is 0.13, and a repeat of "
    "the whole experiment with fresh seeds would give an interval covering the true value 95 times in 100. n "
    "counts the independent repeats (seeds, models or sequences). An interval that excludes 0 shows an "
    "effect; one that straddles 0 cannot tell.",
    "**Verdicts.** *confirmed*: the effect the sheet claims is there (interval on the claimed side of 0, or no "
    "counterexample). *refuted*: the opposite was found (interval on the other side, or a counterexample). "
    "*nuanced*: true under some conditions, false under others; the section says which. *inconclusive*: the "
    "experiment could have shown the effect but the interval straddles 0. *not tested*: the experiment could "
    "not have shown the effect (for example every method failed), so no vote is taken. *invalid*: a number "
    "behind the claim is NaN or infinite, so no verdict is given. The exact rule, applied by code, is in "
    "Appendix B.",
]

# Problem parts in homework order. ``claims``: the claim ids settled here. ``figures``: (study/file, caption);
# a claim's own teaching figure (its ``figure`` field) is shown even when not listed. ``try``: a small rerun.
PARTS = [
    {
        "id": "1a", "title": "One step back through a scalar RNN", "claims": [],
        "verdict": "derived",
        "remember": "Each step back multiplies the gradient by one factor, sigma'(a) w.",
        "model": r"$$h_{t+1} = \sigma(U x_{t+1} + w h_t + b), \qquad \sigma(z) = \frac{1}{1 + e^{-z}}$$",
        "model_note": "Scalar state $h_t$, scalar input $x_t$, loss $L$ on the last state $h_T$. The worked answer "
                      "fixes $b = 0$, $U = 1$.",
        "sheet": "One step back: $\\partial L/\\partial h_t = \\partial L/\\partial h_{t+1} \\cdot "
                 "\\sigma'(U x_{t+1} + w h_t + b) \\cdot w$.",
        "derivation": [
            "Write $a_{t+1} = U x_{t+1} + w h_t + b$ for the pre-activation, so $h_{t+1} = \\sigma(a_{t+1})$. "
            "$h_t$ reaches $L$ only through $h_{t+1}$, so by the chain rule",
            r"$$\frac{\partial L}{\partial h_t} = \frac{\partial L}{\partial h_{t+1}} "
            r"\frac{\partial h_{t+1}}{\partial a_{t+1}} \frac{\partial a_{t+1}}{\partial h_t} "
            r"= \frac{\partial L}{\partial h_{t+1}} \, \sigma'(a_{t+1}) \, w .$$",
        ],
        "correct": "Nothing: the sheet's one-step rule is right.",
        "figures": [("gradient_decay/agreement.png",
                     "The closed-form gradient (the product of the one-step factors) against jax.grad and "
                     "forward-mode autodiff: they agree wherever the number is representable; the rest is "
                     "float underflow, not a wrong formula.")],
        "try": "python -m experiments.gradient_decay --quick --outdir /tmp/gd_quick",
        "exercise": "Take $U = 1$, $b = 0$, $w = 2$, $h_0 = 0$, $x_1 = 1$. Compute $h_1$, "
                    "$\\partial h_1/\\partial h_0$, and check it against a finite difference with step $10^{-6}$.",
    },
    {
        "id": "1b", "title": "All the way back: the gradient product", "claims": [],
        "verdict": "derived",
        "remember": "The gradient through T steps is a product of T factors sigma'(a_i) w; factors below 1 in "
                    "size make it shrink geometrically.",
        "model": None,
        "sheet": "$\\partial L/\\partial h_0 = \\partial L/\\partial h_T \\cdot w^T \\prod_{i=0}^{T-1} "
                 "\\sigma'(U x_{i+1} + w h_i + b)$ (the sheet mixes up the index of $x$ in places).",
        "derivation": [
            "Apply 1a's rule $T$ times, from $t = T-1$ down to $t = 0$; each step contributes one factor "
            "$\\sigma'(a_{i+1})\\,w$:",
            r"$$\frac{\partial L}{\partial h_0} = \frac{\partial L}{\partial h_T} \prod_{i=0}^{T-1} "
            r"\sigma'(a_{i+1})\, w = \frac{\partial L}{\partial h_T}\, w^T \prod_{i=0}^{T-1} "
            r"\sigma'(U x_{i+1} + w h_i + b).$$",
            "The input that enters step $i+1$ is $x_{i+1}$, next to the state $h_i$ it updates. The suite "
            "computes this product as a sum of logarithms, so it never underflows even when it is "
            "$10^{-700}$.",
        ],
        "correct": "Use $x_{i+1}$ with $h_i$ consistently; otherwise the formula is right.",
        "figures": [("gradient_decay/heatmap_w_T.png",
                     "log10 |dh_T/dh_0| over the recurrent weight w and the length T: the product shrinks "
                     "geometrically for |w| < 4, by many decades at large T.")],
        "try": "python -m experiments.gradient_decay --t-max 200 --wb-lengths 10,50,200 --n-w 101 --outdir /tmp/gd_small",
        "exercise": "With $x_t = 0$, $b = 0$, $h_0 = 1/2$, every $a_t = 0$ if $w h_t$ stays 0. Is that possible "
                    "for $w \\neq 0$? What does the product equal then, and which claim below does it touch?",
    },
    {
        "id": "1c", "title": "How large can the product be?", "claims": ["C1", "C2", "C3"],
        "model": r"$$\sigma'(z) = \sigma(z)\,(1-\sigma(z)) \le \tfrac14 \quad\Rightarrow\quad "
                 r"\Big|\frac{\partial L}{\partial h_0}\Big| \le \Big|\frac{\partial L}{\partial h_T}\Big| "
                 r"\Big(\frac{|w|}{4}\Big)^T$$",
        "sheet": "Setting $\\sigma'' = 0$ gives $\\sigma = 1/2$ (pre-activation 0) and $\\sigma' = 1/4$, hence "
                 "the bound above; so $|w| < 4$ vanishes (C2), and with $|w| > 4$ the student writes "
                 "$\\partial L/\\partial h_0 = \\partial L/\\partial h_T\\, w^T (1/4)^T \\to \\infty$ (C3).",
        "correct": "C1 and C2 are right. C3 equates the upper bound with the value: $|w| > 4$ is only necessary "
                   "for explosion. Saturation makes $\\sigma'$ tiny, so the product usually still vanishes; it "
                   "grows only near the unstable fixed point $h = 1/2$ (bias $b = -w/2$), and only until the "
                   "state escapes it.",
        "figures": [("gradient_decay/activation_derivatives.png",
                     "sigmoid' peaks at 1/4 and tanh' at 1, both only at pre-activation 0 (C1)."),
                    ("gradient_decay/decay_rate.png",
                     "Measured decay per step against the bound |w|/4: never above it, usually far below (C2)."),
                    ("gradient_decay/explosion_w_b.png",
                     "Where |dh_T/dh_0| > 1 on the (w, b) plane with |w| > 4: a thin band around b = -w/2, a "
                     "small share of the plane that shrinks with T (C3)."),
                    ("gradient_decay/fixed_point.png",
                     "Started a distance delta from the unstable fixed point, the gradient grows like "
                     "(|w|/4)^T to about 1/delta, then collapses once the state escapes (C3).")],
        "try": "python -m experiments.gradient_decay --w-min 3 --w-max 12 --n-w 201 --t-max 100 --wb-lengths 10,50,100 --outdir /tmp/gd_w",
        "exercise": "For $w = 8$, $b = -4$, $h_0 = 1/2 + \\delta$ with $\\delta = 10^{-6}$: about how many steps "
                    "until the state leaves the fixed point? (Hint: the distance grows like $(|w|/4)^t$.)",
    },
    {
        "id": "1d", "title": "Skip connections", "claims": ["C4"],
        "model": r"$$h_{t+1} = \sigma(U x_{t+1} + w h_t + M h_{t-1} + b)$$",
        "sheet": "$\\partial L/\\partial h_t = \\partial L/\\partial h_{t+1}\\, \\sigma'(a_{t+1})\\, w + "
                 "\\partial L/\\partial h_{t+2}\\, \\sigma'(a_{t+2})\\, M$: the gradient is a sum over paths, "
                 "some of which skip steps (C4).",
        "correct": "Right, with one precision: compare at equal total weight $w + M$, otherwise a larger weight "
                   "alone explains the gain; and some splits make vanishing worse.",
        "figures": [("skip_connections/fair_comparison.png",
                     "At equal total weight w + m, moving weight into the skip connection keeps many more "
                     "decades of gradient at T = 200 (C4)."),
                    ("skip_connections/paths.png",
                     "The gradient as a sum over paths: the short paths (fewer factors) carry nearly all of it; "
                     "the plain RNN's single path carries almost nothing.")],
        "try": "python -m experiments.skip_connections --n-weight 41 --n-share 21 --outdir /tmp/skip_small",
        "exercise": "With $w = M = 1$ and $T = 4$, list every path from $h_4$ back to $h_0$ (steps of 1 or 2). "
                    "How many are there, and which has the fewest factors?",
    },
    {
        "id": "1e", "title": "Gradient clipping", "claims": ["C5a", "C5b"],
        "model": r"$$\text{value: } g_i \leftarrow \min(\max(g_i, -\tau), \tau) \qquad "
                 r"\text{norm: } g \leftarrow \tau\, g / \|g\| \ \text{ if } \|g\| > \tau$$",
        "sheet": "Norm clipping keeps the gradient's direction, value clipping changes it; both change the "
                 "magnitude (C5a). Implied: norm clipping is the better choice for training (C5b).",
        "correct": "C5a is geometry. C5b does not follow from it: which clipping trains better is an empirical "
                   "question, settled by training on a task (see C5b's verdict), not by the direction argument.",
        "figures": [("clipping/direction.png",
                     "Cosine between the clipped and the raw gradient: 1 for norm clipping, often far below 1 "
                     "for value clipping (C5a)."),
                    ("clipping/training_outcome.png",
                     "Share of runs that learned (< 1 % errors on fresh sequences) with no, value and norm "
                     "clipping under plain SGD, each with its own learning rate and threshold chosen on other "
                     "seeds (C5b).")],
        "try": "python -m experiments.clipping --radius 1.0 --eval-seeds 16 --outdir /tmp/clip_radius1",
        "exercise": "Clip $g = (3, 4)$ with $\\tau = 1$ by norm and by value. Compute both results, their "
                    "lengths and the angle each makes with $g$.",
    },
    {
        "id": "2a", "title": "Teacher forcing", "claims": ["C6"],
        "model": r"$$\text{training input at step } t:\quad \text{teacher forcing: } y_{t-1} "
                 r"\qquad \text{free running: } \hat y_{t-1}$$",
        "sheet": "During training feed the true previous output $y_{t-1}$, not the model's prediction "
                 "$\\hat y_{t-1}$. Without it, early mistakes compound and training converges badly or slowly (C6).",
        "correct": "State it per task and per measure, as a hypothesis to test: whether free running trains "
                   "worse depends on the task (see the verdict and its conditions).",
        "figures": [("teacher_forcing/learning_curves.png",
                     "Held-out accuracy over training for teacher forcing and free running on running sums, "
                     "reversal and sorting: free running lags where each output is built from the previous "
                     "one (C6).")],
        "try": "python -m experiments.teacher_forcing --seeds 3 --steps 400 --sum-steps 400 --outdir /tmp/tf_small",
        "exercise": "Name a task where feeding the model its own (wrong) outputs in training could help. Why?",
    },
    {
        "id": "2b", "title": "Exposure bias", "claims": ["C7"],
        "model": None,
        "sheet": "At test time the model consumes its own outputs, which it never saw in training, so errors "
                 "accumulate along the generated sequence (C7).",
        "correct": "Define the bias as a measurable gap: accuracy with oracle prefixes minus accuracy with own "
                   "prefixes, by position. It need not appear where the model matches the data exactly, which "
                   "is what the counter-condition checks.",
        "figures": [("teacher_forcing/exposure_by_position.png",
                     "Accuracy with oracle prefixes minus accuracy with own prefixes, by output position: the "
                     "gap grows along the sequence (C7).")],
        "try": "python -m experiments.teacher_forcing --seeds 3 --digits 4 --outdir /tmp/tf_digits",
        "exercise": "If each digit is right with probability 0.95 independently, what is the chance that all "
                    "6 are right? Why is the measured gap not simply this compounding?",
    },
    {
        "id": "2c", "title": "Scheduled sampling", "claims": ["C8"],
        "model": r"$$\text{input at step } t = \begin{cases} y_{t-1} & \text{with probability } \varepsilon_i "
                 r"\\ \hat y_{t-1} & \text{otherwise} \end{cases}, \qquad \varepsilon_i \text{ decays over "
                 r"training}$$",
        "sheet": "Scheduled sampling reduces exposure bias (C8).",
        "correct": "A smaller gap is not the goal by itself: it can shrink because accuracy with oracle "
                   "prefixes falls. Check that accuracy with the model's own prefixes, what the user sees, "
                   "improves too.",
        "figures": [("teacher_forcing/regimes.png",
                     "Teacher forcing, free running and three decays of scheduled sampling: exposure gap and "
                     "final accuracy per task (C8).")],
        "try": "python -m experiments.teacher_forcing --seeds 3 --floor 0.25 --outdir /tmp/tf_floor",
        "exercise": "Sketch linear, exponential and inverse-sigmoid decays of $\\varepsilon_i$ from 1 to a floor "
                    "of 0.1. Which keeps feeding the truth longest?",
    },
    {
        "id": "3a", "title": "Greedy decoding and beam search", "claims": [],
        "verdict": "worked example",
        "remember": "Beam search keeps k prefixes instead of one, so a first step that looks best but leads "
                    "nowhere can be undone.",
        "model": r"$$\hat y = \operatorname{argmax}_{y} \sum_{t} \log p(y_t \mid y_{<t}) \quad\text{(the search problem)}$$",
        "sheet": "Greedy takes the argmax at each step. Beam search with width $k$ keeps the $k$ most probable "
                 "prefixes; each step scores the $k \\cdot V$ extensions and keeps the best $k$ (the sheet's "
                 "example uses $k = 3$).",
        "correct": "Right. Two details the sheet leaves open: what happens to a hypothesis that ends (EOS) and "
                   "when to stop; toolkits keep an ended hypothesis only if it ranks in the top $k$ (the top-k "
                   "rule).",
        "figures": [],
        "try": "python -m experiments.decoding --quick --outdir /tmp/dec_quick",
        "exercise": "Redo the worked example with $k = 1$ and $k = 2$. Which widths find the most probable "
                    "sequence?",
    },
    {
        "id": "3b", "title": "Beam width", "claims": ["C9"],
        "model": None,
        "sheet": "A too large $k$ gives generic, \"safe\" sequences and costs more; a too small $k$ narrows the "
                 "search so the most probable sequence is easily missed (C9).",
        "correct": "Separate search error (the beam misses the model's best sequence) from model error (the "
                   "model's best sequence is bad). A wide beam finds the model's mode more often, and that mode "
                   "can be the short, empty output: the \"generic\" failure is the model's, not the beam's.",
        "figures": [("decoding/search.png",
                     "Search error and output length against beam width k, with the exact best sequence as "
                     "reference (C9).")],
        "try": "python -m experiments.decoding --n-sources 4 --beam-widths 1,2,3,4,8,32 --outdir /tmp/dec_beam",
        "exercise": "A model gives EOS probability 0.3 at the first step and every longer sequence less than "
                    "0.3. What does exact search return? Is that a search error?",
    },
    {
        "id": "3c", "title": "Sampling and top-k", "claims": ["C10", "C11"],
        "model": r"$$p_k(v) = \frac{p(v)\,[v \in \text{top}_k]}{\sum_{u \in \text{top}_k} p(u)}$$",
        "sheet": "Pure sampling draws from the whole softmax; top-k renormalises over the $k$ most probable "
                 "tokens. $k = 1$ is greedy and $k = V$ is pure sampling (C10). Smaller $k$: less diversity, "
                 "fewer nonsensical sequences; larger $k$: more of both (C11).",
        "correct": "C10 needs a tie rule: with two equally probable best tokens, top-1 sampling picks either, "
                   "greedy always the same. C11 must define \"nonsense\": a loop that repeats a phrase is a "
                   "failure too, and it is the failure small $k$ risks.",
        "figures": [("decoding/sampling.png",
                     "Failures, precision, recall and entropy of samples against k, judged under the true "
                     "source (C11)."),
                    ("decoding/topk_extremes.png",
                     "Top-1 against greedy and top-V against pure sampling, sequence by sequence with the same "
                     "random numbers (C10).")],
        "try": "python -m experiments.decoding --n-sources 4 --top-ks 1,3,10,101 --outdir /tmp/dec_topk",
        "exercise": "For $p = (0.5, 0.3, 0.2)$, write $p_k$ for $k = 1, 2, 3$. Which $k$ gives pure sampling?",
    },
    {
        "id": "4a", "title": "A scalar threshold RNN", "claims": ["C12"],
        "model": r"$$h_t = \mathbb{I}(w_1 x_t + w_2 h_{t-1} + b_2), \quad y_t = \mathbb{I}(w_3 h_t + b_3), "
                 r"\quad \mathbb{I}(z) = [z \ge 0], \quad h_0 = 0$$",
        "sheet": "Task: $y_t = 1$ iff $x_1 = \\dots = x_t = 1$. Weights $w_1 = -1$, $w_2 = 1$, $b_2 = 0.5$, "
                 "$w_3 = -1$, $b_3 = 0.5$ (C12).",
        "correct": None,
        "figures": [("threshold_rnns/automata.png",
                     "The reachable states of each network with the task (the product automaton): no state "
                     "outputs a wrong answer, so the design is correct for every length (C12, C13)."),
                    ],
        "try": "python -m experiments.threshold_rnns --exhaustive-length-1 12 --outdir /tmp/thr_small",
        "exercise": "Run the network by hand on $x = 1, 1, 0, 1$. Write $h_t$ and $y_t$ at each step.",
    },
    {
        "id": "4b", "title": "A two-unit threshold RNN with feedback", "claims": ["C13"],
        "model": r"$$h^{(t)} = \mathbb{I}(W x^{(t)} + b), \quad y^{(t)} = \mathbb{I}(v \cdot h^{(t)} + "
                 r"r\, y^{(t-1)} + c)\ (t > 1), \quad y^{(1)} = \mathbb{I}(v \cdot h^{(1)} + c_0)$$",
        "sheet": "Task: $y^{(t)} = 1$ iff the two sequences agree at every position up to $t$. "
                 "$W = [[-1, -1], [1, 1]]$, $b = [0.5, -1.5]$, $v = [1, 1]$, $r = 1$, $c = -1.5$, "
                 "$c_0 = -0.5$ (C13).",
        "correct": None,
        "figures": [("threshold_rnns/automata.png", None),
                    ("threshold_rnns/mutations.png",
                     "Single-weight changes: which break the design (each with a shortest counterexample) and "
                     "which are equivalent solutions.")],
        "try": "python -m experiments.threshold_rnns --exhaustive-length-2 6 --outdir /tmp/thr_pairs",
        "exercise": "Which hidden unit fires on $x = (0, 1)$? What is $y^{(t)}$ after a mismatch, whatever "
                    "follows?",
    },
]

BEYOND = {
    "study": "spectral",
    "title": "Beyond the sheet: vector RNNs, GRU and LSTM",
    "model": r"$$h_{t+1} = \phi(W h_t + U x_{t+1} + b), \qquad \left\|\frac{\partial h_T}{\partial h_0}\right\| "
             r"\le (\gamma\, \lambda_1(W))^T, \quad \gamma = \max \phi'$$",
    "figures": [("spectral/heatmap_lambda_T.png",
                 "log10 of the gradient norm over lambda_1(W) and T: below the line gamma lambda_1 = 1 it always "
                 "vanishes; above, it may grow."),
                ("spectral/lyapunov.png",
                 "The top Lyapunov exponent (growth rate per step) against lambda_1: positive, that is "
                 "exploding, only well above the line.")],
    "try": "python -m experiments.spectral --n-hidden 16 --seeds 2 --t-max 200 --outdir /tmp/spectral_small",
}

PAPER_DIFFERENCES = [
    "Clipping (C5b): Pascanu, Mikolov and Bengio (2013) proposed norm clipping on geometric grounds and trained "
    "with SGD on sequences of length 50-200; they ran no tuned head-to-head against value clipping. The default "
    "here is temporal order at lengths 10-20 so the sweep fits in minutes, with each method's (learning rate, "
    "threshold) chosen on separate seeds; the `paper` preset is closer to their setting.",
    "Teacher forcing and scheduled sampling (C6-C8): Bengio et al. (2015) used large sequence models on "
    "captioning, parsing and speech; here small GRUs on running sums (each output built from the previous one), "
    "digit reversal and sorting, plus a source with exact probabilities (Huszar 2015) as the counter-condition.",
    "Beam search (C9): the beam curse of Koehn and Knowles (2017) and the empty-output mode of Stahlberg and "
    "Byrne (2019) were seen in machine translation; here GRU language models trained on random sources whose "
    "exact probabilities are known, so search error and model error can be told apart.",
    "Vanishing gradients (C2-C4): the same closed forms as the papers, computed exactly in log space at every "
    "grid point instead of sampled.",
]

GLOSSARY = {
    "decade": "a factor of 10; \"the gradient lost 30 decades\" means it shrank by $10^{30}$ (log10 units).",
    "nats": "units of information or log-probability with the natural logarithm (1 nat = 1.44 bits).",
    "KL divergence": "how far a model's distribution is from the true one, in nats; 0 when they agree.",
    "oracle prefix / own prefix": "when scoring output $t$, the model is given the true previous outputs "
                                  "(oracle) or its own previous predictions (own); the difference is the "
                                  "exposure gap.",
    "teacher forcing / free running": "training on oracle prefixes / on the model's own predictions.",
    "counter-condition": "a setting where the claim's mechanism should be absent, run to check that the "
                         "measured effect disappears when it should.",
    "FTLE": "finite-time Lyapunov exponent: the average log growth per step of a small perturbation of the "
            "state over $T$ steps; positive means nearby states separate (and the gradient grows).",
    "Lyapunov exponent": "the FTLE as $T \\to \\infty$; the top one decides whether gradients vanish (< 0) or "
                         "explode (> 0).",
    "lambda_1": "the largest singular value of the recurrent matrix $W$ (its largest stretch of a vector).",
    "gamma": "the largest slope of the activation: 1/4 for the sigmoid, 1 for tanh.",
    "fixed point": "a state $h^*$ with $h^* = \\sigma(w h^* + b)$; unstable when $|\\sigma'(a^*)\\, w| > 1$, so "
                   "nearby states move away.",
    "product automaton": "the network and the task run side by side as one finite machine; exploring all its "
                         "reachable states checks every input sequence of every length at once.",
    "margin": "how far every weight can move (max-norm) without changing any output of a threshold network.",
    "search error / model error": "the decoder missed the model's most probable sequence / the model's most "
                                  "probable sequence is itself a bad output.",
    "exact search": "branch-and-bound search that provably returns the model's most probable sequence.",
    "top-k rule vs pool rule": "two ways a beam handles ended hypotheses: the top-k rule (common toolkits) "
                               "keeps an EOS extension only if it ranks in the top $k$ of all $k V$ "
                               "candidates, so $k = 1$ is greedy; the pool rule (this suite's first version) "
                               "offers every beam's EOS extension to a pool of finished hypotheses.",
    "EOS": "the end-of-sequence token.",
    "V": "vocabulary size: the number of tokens, EOS included where stated.",
    "seed (a), seed (b)": "the answer sheet's own designs for 4a and 4b (the \"seed\" is the homework sheet), "
                          "not random seeds.",
    "random seeds": "independent repeats of an experiment with different random numbers; \"n = 10\" seeds "
                    "means ten such repeats.",
    "constant predictor": "a model that ignores its input and always predicts the mean target; beating it is "
                          "the least a trained network must do.",
    "wrecked run": "a training run whose loss became non-finite or jumped far above its best earlier value.",
    "95 % interval": "see \"How to read a verdict\" above; Wilson intervals for rates, Student-t or bootstrap "
                     "for means.",
    "exact claim": "a claim settled by proof or by computing every case, so its numbers are counts with no "
                   "sampling error.",
}
