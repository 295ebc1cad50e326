"""Export licensing of cyber capabilities, supervised from the development stage (issue 5; the model is
reference/export_control.md sections 0, A, 2.1-2.5). Pure: no database, no web, no clock. This package is the
single source of truth for every licensing rule and transition; the services, CLI and REST only read state,
call these functions, store what they return and map `TransitionRefused` (409) to a response.

Conventions shared by every module:
- State is a frozen dataclass with a `version` (1 after creation, +1 per transition: compare-and-set on it).
- Every transition is a function `(state, ..., actor, at, reason) -> (new state, Event)`; an illegal one
  raises `TransitionRefused(code, message)` and changes nothing. `at` is a timezone-aware datetime the
  caller passes; `today` a date. Reasons are required.
- Every rule is a small function whose docstring is the explanation a user reads (`rule_explanations()`);
  every decision returns its reasons.

Public API, module by module:
- `history`: `Role` (vendor, officer, senior-officer, system), `Actor(id, role, organisation)`, `SYSTEM`,
  `Event(subject, action, actor, role, from_state, to_state, reason, at, version, details)`,
  `TransitionRefused`.
- `config`: `LicensingConfig(supervise_dual_use, misuse_lookback_years, offensive_approvers,
  g2g_only_offensive, reporting_days)`, `DEFAULT_CONFIG`; `.supervised(tier)`, `.approvers_required(tier)`.
- `catalog`: `Capability` (declared properties and carve-out flags), `classify(capability) ->
  Classification(tier, controls, carve_outs, rationale, predicates)`, `GesherTier`, `Category`, `ItemForm`,
  `IntrusionPurpose`, `CarveOut`, `ControlRef`, `Regime`, `rule_explanations()`.
- `gates`: `Project`, `Stage`, `GateReview`, `RequiredChange`, `GATE_CHECKS`; transitions `register`,
  `review_gate`, `confirm_change`, `advance`, `regress`, `suspend`, `resume`, `retire`; queries
  `needs_project(tier, config)`, `pending_gate`, `gate_passed`, `may_market`, `may_export`, `may_apply`.
- `conditions`: `LicenceKind`, `TargetClass`, the typed conditions (`EndUseLimit`, `NoReexport`,
  `GovernmentEndUserOnly`, `GovernmentToGovernmentOnly`, `ReportingDuty`, `ProhibitedTargets`; union
  `Condition`), `mandatory_conditions(tier, kind, config)`.
- `recommend`: `recommend(RecommendationInputs) -> Recommendation(verdict, reasons)`, `Verdict` (approve,
  refer, presume-denial, deny), `Reason(code, text, verdict, rule)`, the fact types `CountryFacts`,
  `PartyFacts`, `MarketingLicenceFacts`, `MisuseRecord` (a substantiated, actioned misuse report),
  `rule_explanations()`.
- `applications`: `Application`, `ApplicationState`, `Approval`; transitions `draft`, `submit`, `screen`
  (also re-screening), `confirm_classification`, `approve`, `deny`, `withdraw`; `is_open`.
- `licences`: `Licence`, `LicenceState`, `MissedReport`; transitions `issue`, `suspend`, `reinstate`,
  `revoke`, `expire`; queries `effective_state`, `in_force`, `covers`, `marketing_licence_facts`,
  `reports_due(licence, reports_received, today)`.
- `misuse`: `MisuseReport`, `MisuseState`, `MisuseFinding`, the actions (`SuspendLicence`, `RevokeLicence`,
  `DenyEndUser`, `LowerCountryTier`, `LowerPartnerTier`; union `Action`); transitions `receive`,
  `investigate`, `act`; `cascade(action, applications, licences, actor, at, reason)` and `cascade_all(...)
  -> Cascade`, `breached_conditions`, `allowed_in`.

Vocabulary shared with vetting: `ExportTier` (vetting.countries), `ScreeningOutcome` and the misuse look-back
(vetting.model), `TrustTier` (policy.entitlement)."""
