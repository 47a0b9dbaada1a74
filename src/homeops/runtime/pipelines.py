"""The seeds' two process machines: template generation (configure → Git → Flux) and node provisioning.

Template generation is what ``homeops configure`` and Git do to a generated file; its "live object"
is a small dict of facts about one file (see :data:`TEMPLATE_FACTS`), which ``classify`` reads like a
status. Node provisioning ends in a Kubernetes ``Node``; the states a cluster can show are recognised
from the Node object (Ready condition, ``spec.unschedulable``).
"""

from __future__ import annotations

from .machine import Cond, Field, Machine, Recognise, State, Timer, Transition

TEMPLATE_FACTS = {
    "rendered": "the output exists and equals a fresh render of its template (the configure ledger)",
    "encrypted": "the output is a secret file and holds a `sops:` block with a `mac`",
    "committed": "the output is committed (no difference from Git HEAD)",
    "applied": "the Kustomization that owns it reports `lastAppliedRevision` = that commit",
}
"""Keys of the facts dict the TemplateGeneration machine classifies; each is true or false."""

TEMPLATE_GENERATION = Machine(
    kind="TemplateGeneration",
    api="process",
    slug="template-generation",
    title="Template generation (configure → Git → Flux)",
    summary="A generated file goes from its template to the cluster: `homeops configure` renders the "
    "templates, encrypts secret outputs with sops and checks the result in one all-or-nothing "
    "transaction; the user commits and pushes; Flux fetches the new revision and applies it.",
    initial="Templated",
    states=(
        State("Templated", "the template changed; its output is missing or out of date", "progressing"),
        State(
            "Rendered",
            "rendered, not yet encrypted (never on disk: configure writes both at once)",
            "progressing",
        ),
        State("Encrypted", "rendered and, for secret files, encrypted; not committed yet", "progressing"),
        State("Committed", "committed; Flux has not applied that revision yet", "waiting"),
        State("Applied", "the owning Kustomization applied the commit", "healthy"),
    ),
    transitions=(
        Transition("Templated", "Rendered", "`homeops configure` (makejinja/minijinja render)"),
        Transition(
            "Rendered", "Encrypted", "`homeops configure` encrypts *.sops.* outputs (same transaction)"
        ),
        Transition("Rendered", "Templated", "`homeops check` on the result fails: nothing is written"),
        Transition("Encrypted", "Committed", "git commit (the pre-commit hook refuses plaintext secrets)"),
        Transition(
            "Committed",
            "Applied",
            "Flux fetches the revision (GitRepository interval or webhook) and the Kustomization applies it",
            timer="interval",
            emits=("FluxReconciled",),
        ),
        Transition("Applied", "Templated", "a template or config.yaml value is edited"),
        Transition(
            "Committed",
            "Templated",
            "a hand edit of a generated file (GEN001) is overwritten by the next configure",
        ),
    ),
    timers=(Timer("interval", None, "the GitRepository's spec.interval, then the Kustomization's"),),
    recognise=(
        Recognise("Applied", (Field("applied", True),), reason="Applied"),
        Recognise("Committed", (Field("committed", True), Field("rendered", True)), reason="Committed"),
        Recognise("Encrypted", (Field("encrypted", True), Field("rendered", True)), reason="Encrypted"),
        Recognise("Rendered", (Field("rendered", True),), reason="Rendered"),
    ),
    fallback=("Templated", "OutOfDate"),
    seed_differences=(
        "Seed 000 draws Rendered and Encrypted as separate steps; `homeops configure` renders, encrypts "
        "and checks in one transaction, so a rendered-but-plaintext secret never reaches the working tree.",
        '"Committed → Applied: flux reconcile": Flux applies on its own at the GitRepository\'s interval '
        "(or a webhook); `flux reconcile` only shortens the wait.",
    ),
    sources=("homeops configure (DESIGN.md: configure/), seed 000 Template Generation Lifecycle",),
)

NODE = Machine(
    kind="Node",
    api="v1",
    slug="node-provisioning",
    title="Node provisioning (Talos)",
    summary="A node is drafted in the repository's node templates, bootstrapped (Talos machine config "
    "applied), configured by the Taskfile/configure step, joins the cluster, and may be drained for "
    "maintenance and removed. Only the last states are visible in the cluster, as a Node object.",
    initial="Draft",
    states=(
        State("Draft", "described in the node templates / talconfig, not applied", "absent"),
        State("Bootstrapped", "machine config applied (talosctl apply-config), installing", "progressing"),
        State("Configured", "configured and rebooted, kubelet starting", "progressing"),
        State("JoinedCluster", "the Node is Ready and schedulable", "healthy"),
        State("NotReady", "the kubelet stopped reporting or reports NotReady", "failing"),
        State("Drained", "cordoned (`spec.unschedulable`) and drained for maintenance", "suspended"),
        State("Terminated", "removed from the cluster", "absent", final=True),
    ),
    transitions=(
        Transition("Draft", "Bootstrapped", "bootstrap scripts apply the rendered machine config"),
        Transition("Bootstrapped", "Configured", "`task configure` / talosctl, reboot"),
        Transition("Configured", "JoinedCluster", "kubelet registers and posts Ready"),
        Transition(
            "JoinedCluster", "NotReady", "node lease / status not renewed (node-monitor-grace-period)"
        ),
        Transition("NotReady", "JoinedCluster", "kubelet reports Ready again"),
        Transition("JoinedCluster", "Drained", "kubectl drain (maintenance, upgrade)"),
        Transition("Drained", "JoinedCluster", "kubectl uncordon"),
        Transition("Drained", "Terminated", "node deleted / reset"),
    ),
    recognise=(
        Recognise("Drained", (Field("spec.unschedulable", True),), reason="Unschedulable"),
        Recognise("JoinedCluster", (Cond("Ready", "True"),)),
        Recognise("NotReady", (Cond("Ready", "False"),)),
        Recognise("NotReady", (Cond("Ready", "Unknown"),)),
    ),
    fallback=("Configured", "NodeStatusUnknown"),
    seed_differences=(
        "Seed 001 has no NotReady state; a joined node that stops reporting is the most common node "
        "problem (Ready=Unknown, reason NodeStatusUnknown) and pods on it are evicted after the "
        "toleration period.",
    ),
    sources=(
        "seed 001 Node Provisioning Lifecycle",
        "Kubernetes docs, Nodes: Ready condition, spec.unschedulable",
    ),
)
