package sandbox

// builtinServices lists the simulated services, in registration order. Each
// constructor is called again on every Reset. When two services share a
// signing name, the one implementing Claimer must come first.
var builtinServices = []func(sb *Sandbox) Service{
	newIAMService,
	newSTSService,
	newSQSService,
	newSNSService,
	newSESService,
	newCloudTrailService,
}
