package demo

// scenarios lists what `firebreak demo` can play, sorted by name. A new
// scenario is a file with one Scenario value and a line here.
var scenarios = []Scenario{
	ec2BruteForce,
	exposedKey,
}
