// Package ssm holds the aws.ssm.* response actions, which look inside an
// instance through Systems Manager Run Command:
//
//   - aws.ssm.verify_credentials_rotated asks an instance, through a short
//     script sent with SendCommand, which role credentials its metadata
//     service (IMDSv2) hands out now, and says whether they were issued at
//     or after the cutoff of a credential rotation
//     (aws.iam.rotate_instance_credentials). The script prints only the
//     fields that are not secret (Code, LastUpdated, Type, AccessKeyId,
//     Expiration and the role name): the secret key and the session token
//     never leave the instance.
//
// An instance that cannot answer (not managed by SSM, agent offline,
// stopped, no role, script failed) is a result, verified=false with a
// reason, not an error: the step ran and found the rotation unproven. Bad
// input and an unknown instance are permanent errors; throttling and a
// command still running when the timeout ends are transient ones, so the
// runner retries, and the retry picks up the command already sent.
package ssm
