package ssm

// linuxScript reads the role credentials from IMDSv2 and prints one line
// of JSON with the role and the credential fields that are not secret.
// IMDS prints one field per line, so sed keeps exactly the allowed ones:
// SecretAccessKey and Token never leave the instance. curl -f fails on
// IMDS's 404 (no role) and set -e ends the script with curl's exit code.
const linuxScript = `set -eu
imds=http://169.254.169.254/latest
token=$(curl -sSf -X PUT "$imds/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 60")
roles=$(curl -sSf -H "X-aws-ec2-metadata-token: $token" "$imds/meta-data/iam/security-credentials/")
role=$(printf '%s\n' "$roles" | head -n 1)
creds=$(curl -sSf -H "X-aws-ec2-metadata-token: $token" "$imds/meta-data/iam/security-credentials/$role")
# Only fields that are not secret: never SecretAccessKey or Token.
fields=$(printf '%s\n' "$creds" | sed -n -E 's/^[[:space:]]*"(Code|LastUpdated|Type|AccessKeyId|Expiration)"[[:space:]]*:[[:space:]]*"([^"]*)".*$/,"\1":"\2"/p' | tr -d '\n')
printf '{"Role":"%s"%s}\n' "$role" "$fields"`

// windowsScript is linuxScript in PowerShell: Invoke-RestMethod parses
// the credential document and only the fields that are not secret are
// printed. With ErrorActionPreference Stop, IMDS's 404 ends the script
// with exit code 1.
const windowsScript = `$ErrorActionPreference = 'Stop'
$imds = 'http://169.254.169.254/latest'
$token = Invoke-RestMethod -UseBasicParsing -Method Put -Uri "$imds/api/token" -Headers @{'X-aws-ec2-metadata-token-ttl-seconds' = '60'}
$h = @{'X-aws-ec2-metadata-token' = $token}
$role = ((Invoke-RestMethod -UseBasicParsing -Uri "$imds/meta-data/iam/security-credentials/" -Headers $h) -split "` + "`" + `n")[0].Trim()
$c = Invoke-RestMethod -UseBasicParsing -Uri "$imds/meta-data/iam/security-credentials/$role" -Headers $h
function Stamp($v) { if ($v -is [datetime]) { $v.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ') } else { [string]$v } }
# Only fields that are not secret: never SecretAccessKey or Token.
[ordered]@{Role = $role; Code = [string]$c.Code; LastUpdated = (Stamp $c.LastUpdated); Type = [string]$c.Type; AccessKeyId = [string]$c.AccessKeyId; Expiration = (Stamp $c.Expiration)} | ConvertTo-Json -Compress`
