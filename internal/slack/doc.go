// Package slack asks people in Slack to decide on the steps that wait for
// them, and records their answers.
//
// StepMessage builds the Block Kit message for one step: what it will do
// (the action and its resolved parameters), why (the incident's finding,
// severity and subjects), the evidence so far and, when the playbook asks
// for approval, Approve and Deny buttons with the approval's expiry. A
// Webhook posts it to an incoming webhook.
//
// Handler serves Slack's interactivity request URL. It checks Slack's
// request signature (HMAC-SHA256 with the app's signing secret, within
// five minutes of now), parses the block_actions payload, refuses anyone
// who is not a configured approver, and records the decision through a
// Decider, normally the runner's (Runner), which writes who, when, from
// where and why to the ledger and wakes the run. The message is then
// replaced through the payload's response_url with who decided and when.
//
// Announcer is the runner's Announcer in serve: it posts each approval
// request (with the AWS calls the step's dry run would make), each
// decision taken outside Slack and, with notify.slack.steps: all, each
// step's end (FinishedMessage), reading what it says from the ledger.
//
// The buttons carry only the incident id, step id and for_each item;
// no secret reaches Slack, the ledger or a log through this package.
package slack
