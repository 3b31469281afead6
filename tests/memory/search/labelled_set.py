"""A labelled set for search quality, shaped like a real team's memory.

Two kinds of query run against one corpus:

- THEME_QUERIES paraphrase a theme in other words (full-text search misses, embeddings shine);
  the answer is right when the top memory belongs to the query's theme.
- KNOWN_ITEM_QUERIES look for one record by what only it has: a ticket or incident id, an error
  code, a version, a host, a person's or vendor's name, a SKU. The RECORDS they look for come in
  near-duplicate families written from the same template (ten incident notes, a handful of
  tickets, invoices and candidates) that differ mostly in those identifiers, so an embedding
  cannot tell them apart while the identifier names exactly one. Each query names its target by a
  string that occurs in exactly one memory of the corpus (the test checks this).

Every memory has a theme, so the theme queries also have to step around the records.
"""

MEMORIES = {
    "infrastructure": [
        "The primary Postgres node ran out of disk space during the nightly vacuum.",
        "We upgraded the Kubernetes cluster to the new minor version without downtime.",
        "Redis latency spiked when the cache eviction policy was set to allkeys-lru.",
        "The backup job now copies database snapshots to object storage every night.",
        "A misconfigured load balancer health check took the API offline for ten minutes.",
        "We added read replicas to spread the reporting queries away from the primary.",
        "The deploy pipeline fails when the container image is larger than two gigabytes.",
        "Terraform state got locked after a cancelled apply and had to be released by hand.",
        "Memory usage of the search service grows until the pod is killed by the OOM killer.",
        "TLS certificates for the internal services are renewed automatically every sixty days.",
        "The message queue backlog reached a million events after the consumer crashed.",
        "We moved the logging stack to a cheaper storage tier for older indices.",
        "Network packet loss between the two data centres caused replication lag.",
        "The staging environment shares a database server with the analytics sandbox.",
        "CPU throttling on the worker nodes slowed down the nightly batch jobs.",
    ],
    "hiring": [
        "We interviewed three candidates for the senior backend engineer role this week.",
        "The offer to the frontend developer was accepted and she starts in March.",
        "Our recruiter suggested posting the data scientist opening on two more job boards.",
        "New hires get a buddy for their first month to help them settle in.",
        "The take-home exercise is too long; candidates spend a whole weekend on it.",
        "We agreed on a salary band for the engineering manager position.",
        "Two interns will join the design team for the summer.",
        "The onboarding checklist now includes laptop setup and security training.",
        "A candidate withdrew after the fourth interview round, saying the process was too slow.",
        "Referral bonuses will be paid after the new colleague passes probation.",
        "We need a second interviewer trained for the system design interview.",
        "The hiring committee meets every Thursday to review applicants.",
        "Our careers page still lists a position that was filled last year.",
        "Exit interviews show people leave because of unclear promotion criteria.",
        "The team lead wants to hire a contractor for three months to cover parental leave.",
    ],
    "customers": [
        "A large customer asked for single sign-on before renewing their contract.",
        "Users complained that the mobile app logs them out every day.",
        "The onboarding wizard confuses new users at the billing address step.",
        "Support tickets about slow report exports doubled after the last release.",
        "Customers want to export their dashboards as PDF files.",
        "The churn survey says small teams find the product too expensive.",
        "A customer success call revealed that nobody uses the weekly digest email.",
        "Beta testers love the new dark mode but found contrast problems.",
        "Several users requested keyboard shortcuts for the editor.",
        "The enterprise client wants an audit log of every permission change.",
        "Net promoter score went up after we fixed the notification spam.",
        "Users cannot find the button to invite teammates to a workspace.",
        "A customer reported that accented characters break in CSV imports.",
        "The feedback widget collected forty suggestions about search this month.",
        "Trial users who connect an integration on day one convert twice as often.",
    ],
    "finance": [
        "The quarterly budget review moved cloud spending into its own line item.",
        "Our invoice payment terms changed from sixty to thirty days.",
        "The auditors asked for receipts for all travel expenses above five hundred euros.",
        "Revenue grew twelve percent compared with the same quarter last year.",
        "We need to renegotiate the office lease before it renews in October.",
        "Payroll will run two days early because of the public holiday.",
        "The finance team approved the purchase of new laptops for the sales team.",
        "Currency fluctuations reduced the value of our dollar income this month.",
        "The board wants a cash runway forecast for the next eighteen months.",
        "Unused software subscriptions cost us almost three thousand euros a year.",
        "VAT returns are due at the end of the month and need the sales ledger.",
        "The bank raised the fee for international transfers.",
        "Marketing overspent its events budget by twenty percent.",
        "We set aside a reserve for bad debts from late-paying clients.",
        "The accountant recommends depreciating servers over three years.",
    ],
}

THEME_QUERIES = {
    "infrastructure": [
        "database server storage full", "cluster upgrade downtime", "cache latency problems",
        "replication lag between regions", "pods killed for using too much memory",
    ],
    "hiring": [
        "interviews with job applicants", "new employee first weeks", "recruiting an engineering manager",
        "why candidates drop out of the process", "bonus for recommending a friend",
    ],
    "customers": [
        "client feedback about the app", "people asking for exports", "renewal blocked by login requirements",
        "users churn because of price", "complaints after the release",
    ],
    "finance": [
        "budget and spending review", "money owed by late clients", "income growth this quarter",
        "costs of subscriptions and fees", "salary payments timing",
    ],
}

RECORDS = {
    "infrastructure": [
        # Incident notes as the on-call engineer writes them, one line per incident.
        "INC-4398: checkout API returned 502s for 12 minutes after a deploy; rolled back to the previous release.",
        "INC-4403: checkout API returned 502s for 25 minutes after a deploy; rolled back and added a smoke test.",
        "INC-4405: search API returned 502s for 8 minutes after a config change; reverted the config.",
        "INC-4407: checkout API returned 503s for 40 minutes while the database failed over; no data was lost.",
        "INC-4409: login API returned 502s for 15 minutes after a deploy; rolled back to the previous release.",
        "INC-4412: checkout API returned 502s for 18 minutes after a deploy; a missing environment variable.",
        "INC-4415: payments API timed out for 30 minutes after a deploy; rolled back and paged the payments team.",
        "INC-4418: checkout API returned 502s for 10 minutes during certificate rotation; renewed the cert by hand.",
        "INC-4421: search API returned 500s for 20 minutes after a deploy; rolled back to the previous release.",
        "INC-4426: checkout API returned 502s for 5 minutes after a deploy; the canary caught it and shifted traffic back.",
        # Error codes from the same jobs.
        "The nightly export from the billing Oracle database failed with ORA-01555 snapshot too old; "
        "we moved it after the batch window.",
        "The nightly export from the billing Oracle database failed with ORA-04031 unable to allocate shared memory; "
        "the DBA raised the shared pool.",
        "The nightly export from the billing Oracle database failed with ORA-00060 deadlock detected; "
        "a retry went through.",
        "The user import into MongoDB stopped with E11000 duplicate key error on the email index.",
        "Worker pods restart with exit code 137 (OOMKilled) when the embedding batch is too large.",
        "CI runners fail with ENOSPC no space left on device when the Docker cache is not pruned.",
        # Hosts and versions.
        "db-prod-01 disk reached 90% during the nightly vacuum; we grew the volume to 2 TB.",
        "db-prod-02 disk reached 90% after WAL archiving stalled; we cleared old WAL segments.",
        "db-prod-03 disk reached 95% because of a forgotten debug table; we dropped it.",
        "Upgraded Postgres on the reporting replica from 15.4 to 15.6; pg_stat_statements had to be reinstalled.",
        "Upgraded Postgres on the primary from 14.9 to 15.4 over the weekend with pg_upgrade.",
        "Upgraded Redis from 6.2.14 to 7.2.4; the new version changed how keys are evicted.",
        "The Grafana alert for kafka-broker-3 fires every night while log compaction runs.",
        "kafka-broker-1 lost its disk and was rebuilt from the other brokers.",
    ],
    "hiring": [
        "Candidate Oluwaseun Adeyemi (REQ-2291, senior backend) passed the system design round; references next.",
        "Candidate Anneliese Vantongeren (REQ-2291, senior backend) passed the system design round; take-home pending.",
        "Candidate Tomasz Wielgosz (REQ-2291, senior backend) failed the system design round but coded well.",
        "Candidate Priyanka Raghunathan (REQ-2304, data scientist) passed the system design round; offer call Friday.",
        "Candidate Mateus Figueiredo (REQ-2304, data scientist) dropped out after the system design round.",
        "Candidate Siobhan Kavanagh (REQ-2317, engineering manager) finished the panel; the committee was split.",
    ],
    "customers": [
        "ZD-88412 from Brightwater Logistics: SSO login loops back to the sign-in page in Safari.",
        "ZD-88419 from Kestrel Analytics: SSO login loops back to the sign-in page after their IdP certificate change.",
        "ZD-88431 from Brightwater Logistics: CSV export of the audit log times out for large workspaces.",
        "ZD-88437 from Halden Fisheries: CSV export times out for reports with more than 50,000 rows.",
        "ZD-88440 from Marlowe & Finch: accented characters in customer names break the CSV import.",
        "ZD-88446 from Kestrel Analytics: the mobile app logs users out every morning since the 1.9.2 update.",
        "ZD-88452 from Quillon Health: the mobile app crashes on launch on Android 14 since the 1.9.2 update.",
        "ZD-88458 from Halden Fisheries: invitation emails to new teammates land in spam.",
    ],
    "finance": [
        "Invoice INV-2024-0117 from Hetzner for 1,240 EUR was paid eleven days late.",
        "Invoice INV-2024-0123 from Hetzner for 1,310 EUR is disputed because traffic was billed twice.",
        "Invoice INV-2024-0131 from Hetzner for 1,240 EUR was paid on time.",
        "Invoice INV-2024-0142 from Datadog for 4,800 USD was approved by the CTO.",
        "Invoice INV-2024-0150 from Datadog for 5,200 USD is waiting for a purchase order.",
        "Purchase order PO-7731 covers twelve laptops, SKU LNV-T14-G4-32, for the sales team.",
        "Purchase order PO-7748 covers six monitors, SKU DEL-U2723QE, for the design team.",
        "Purchase order PO-7752 covers twelve laptops, SKU LNV-T14-G4-16, for the support team.",
        "Expense claim EXP-5521 for the Lisbon offsite hotel was rejected for missing receipts.",
        "Expense claim EXP-5534 for the Berlin conference hotel was approved.",
    ],
}

# (query, a string found in exactly one memory: the target)
KNOWN_ITEM_QUERIES = [
    ("INC-4412", "INC-4412"),
    ("what happened in INC-4403?", "INC-4403"),
    ("INC-4418 postmortem", "INC-4418"),
    ("who got paged for INC-4415", "INC-4415"),
    ("which incident was caused by a missing env var", "INC-4412"),
    ("ORA-04031", "ORA-04031"),
    ("ORA-01555 in the billing export", "ORA-01555"),
    ("E11000 duplicate key", "E11000"),
    ("pods exiting with code 137", "exit code 137"),
    ("ENOSPC on CI", "ENOSPC"),
    ("db-prod-03 disk full", "db-prod-03"),
    ("postgres 15.6 upgrade", "15.4 to 15.6"),
    ("redis 7.2.4", "Redis from 6.2.14"),
    ("kafka-broker-3 alert", "kafka-broker-3"),
    ("Tomasz Wielgosz interview", "Tomasz Wielgosz"),
    ("how did Anneliese do", "Anneliese"),
    ("Siobhan Kavanagh panel feedback", "Siobhan Kavanagh"),
    ("REQ-2304 offer", "Priyanka"),
    ("ZD-88437", "ZD-88437"),
    ("Kestrel SSO ticket", "ZD-88419"),
    ("Quillon Health crash", "Quillon Health"),
    ("Halden Fisheries invite emails", "ZD-88458"),
    ("INV-2024-0123", "INV-2024-0123"),
    ("Datadog invoice waiting for a PO", "INV-2024-0150"),
    ("PO-7752", "PO-7752"),
    ("LNV-T14-G4-32 laptops", "LNV-T14-G4-32"),
    ("EXP-5521", "EXP-5521"),
    ("Berlin conference hotel expense", "EXP-5534"),
    # Described rather than named: the words differ from the record's, as they would in a real question.
    ("the deadlock in the Oracle export", "ORA-00060"),
    ("which outage did the canary catch", "INC-4426"),
    ("the broker whose disk died", "kafka-broker-1"),
    ("which candidate quit after the design interview", "Mateus"),
    ("app keeps signing people out", "ZD-88446"),
    ("the Hetzner bill that was paid late", "INV-2024-0117"),
    ("double billing by the hosting provider", "INV-2024-0123"),
    ("monitors for the designers", "PO-7748"),
]
