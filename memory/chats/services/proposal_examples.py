"""Seed examples the local proposal classifier learns from, before people review any proposal.

Accepted proposals are added as examples of their kind and rejected ones as `none`, so the
classifier follows the team's own reviews.
"""

SEED_EXAMPLES = {
    "task": [
        "Can you update the deploy script before Friday?",
        "Please review my pull request for the billing fix",
        "We need to add an alert on disk space for the database hosts",
        "Bob should rotate the API keys this week",
        "TODO: write the migration guide for the new API",
        "Someone needs to renew the TLS certificate before it expires",
        "Alice will prepare the slides for the customer demo",
        "Let's make sure the backups are tested every month, Dave can you own it",
        "I'll take the ticket about the broken export button",
        "Need to follow up with Globex about the contract renewal",
        "Could you send the invoice to the customer today?",
        "Remember to update the on-call schedule for next week",
    ],
    "decision": [
        "We decided to move the backups to object storage",
        "Agreed: we go with PostgreSQL instead of MongoDB",
        "Decision: the release is postponed to next Tuesday",
        "We'll use Redis for the job queue from now on",
        "After the discussion we chose the annual plan",
        "Final call: we drop support for Python 3.9",
        "OK, going with option B for the pricing page",
        "The team approved the new on-call rotation",
        "We settled on weekly releases on Thursdays",
        "Let's go with the cheaper hosting provider, decided",
    ],
    "question": [
        "Does anyone know why the nightly build failed?",
        "What is the deadline for the quarterly report?",
        "Who owns the billing service now?",
        "How do I get access to the staging database?",
        "Is the customer call still at 3pm tomorrow?",
        "Where are the design files for the new landing page?",
        "Should we upgrade Django before or after the release?",
        "Any idea how much the new servers will cost?",
        "Why is the dashboard so slow this morning?",
        "When does the contract with Initech end?",
    ],
    "problem": [
        "The nightly backup failed again, disk is full",
        "Production is down, users get 502 errors",
        "The mobile app logs users out every day",
        "Payments are failing for customers in Germany",
        "The CI pipeline has been broken since yesterday",
        "Memory usage on the workers keeps growing until they crash",
        "Search returns no results for names with accents",
        "Emails from the app land in spam for Gmail users",
        "The export to PDF times out on large dashboards",
        "Latency spiked to 2 seconds after the last deploy",
    ],
    "none": [
        "ok", "thanks!", "lol", "good morning everyone", "haha nice", "+1", "see you tomorrow",
        "congrats on the launch 🎉", "brb", "nice weekend all", "yes", "I'm on my way", "great, thank you",
        "happy birthday Carol!", "coffee anyone?", "sounds good", "👍", "back online",
    ],
}
