// Package replay feeds recorded events through the pipeline: files,
// directories (walked, in name order) and standard input, in any shape
// the event decoder accepts (CloudTrail log files, gzipped or not,
// included). Each file is one message to the Sink; a file that does not
// decode is reported, not quarantined: the operator is watching.
package replay
