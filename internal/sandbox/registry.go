package sandbox

// builtinServices lists the simulated services, in registration order. Each
// constructor is called again on every Reset. When two services share a
// signing name, the one implementing Claimer must come first (s3control
// before s3).
var builtinServices = []func(sb *Sandbox) Service{
	newIAMService,
	newSTSService,
	newSQSService,
	newSNSService,
	newSESService,
	newCloudTrailService,
	newS3ControlService,
	newS3Service,
	newEC2Service,
	newSSMService,
	newLogsService,
	newInspectorService,
	newSecurityHubService,
	newGuardDutyService,
	newAutoScalingService,
}
