"""Export licensing as a service (issue 5): the store and the pure core (`gesher.licensing`) put together.

Every function takes `(node, conn, actor, ...)`, runs in the caller's transaction (the request or CLI command
owns it; nothing here commits), reads the state, calls the pure transition with the time now, and stores the
new state and its Event in the same transaction. A state is saved by compare-and-set on its version, so two
concurrent decisions cannot both win: the second gets Conflict ("read it again"). `TransitionRefused` (409)
from the core propagates unchanged, with nothing written.

Role checks the core does not make are made here: a vendor sees and acts on its own organisation's items,
projects, applications and licences only (another vendor's are absent: NotFound, like a missing id).

Modules: `catalog` (items), `projects` (development supervision), `applications` (applications with automatic
screening, decisions, the licence issued on approval, re-screening on a watchlist update), `licences`
(suspend, reinstate, revoke), `reporting` (periodic reports, the sweep), `misuse` (reports and the cascade),
`misuse_records` (substantiated reports as facts for later recommendations), `history` (what an actor may
read), `notes` (officer-only or shared notes), `visibility` (what a vendor reads of its own records),
`overview` (reports per item, vendor, country), `roles` (which partner accounts act over REST, as whom)."""
