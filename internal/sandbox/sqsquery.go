package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
)

// SQS over awsQuery, for clients older than SQS's switch to JSON (AWS CLI
// v2 before 2.13, botocore before 1.31): the form is read into the same
// sqsInput as a JSON body, and results are written as awsQuery XML.

func formInt(form url.Values, name string) *int {
	v := form.Get(name)
	if v == "" {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		n = -1 // rejected by range checks
	}
	return &n
}

func formAttrs(form url.Values, prefix string) map[string]msgAttr {
	out := map[string]msgAttr{}
	for _, m := range formMembers(form, prefix, "Name", "Value.DataType", "Value.StringValue", "Value.BinaryValue") {
		a := msgAttr{DataType: m["Value.DataType"], StringValue: m["Value.StringValue"]}
		if b := m["Value.BinaryValue"]; b != "" {
			a.BinaryValue, _ = base64.StdEncoding.DecodeString(b)
		}
		out[m["Name"]] = a
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func sqsFormInput(form url.Values) sqsInput {
	in := sqsInput{
		QueueName: form.Get("QueueName"), QueueURL: form.Get("QueueUrl"), QueueOwnerAWSAccountID: form.Get("QueueOwnerAWSAccountId"),
		QueueNamePrefix: form.Get("QueueNamePrefix"), NextToken: form.Get("NextToken"), ReceiptHandle: form.Get("ReceiptHandle"),
		MaxResults: formInt(form, "MaxResults"), MaxNumberOfMessages: formInt(form, "MaxNumberOfMessages"),
		WaitTimeSeconds: formInt(form, "WaitTimeSeconds"), VisibilityTimeout: formInt(form, "VisibilityTimeout"),
		AttributeNames: formList(form, "AttributeName"), SystemAttributeNames: formList(form, "MessageSystemAttributeName"),
		MessageAttributeNames: formList(form, "MessageAttributeName"),
	}
	in.MessageBody = form.Get("MessageBody")
	in.DelaySeconds = formInt(form, "DelaySeconds")
	in.MessageAttributes = formAttrs(form, "MessageAttribute")
	if attrs := formMembers(form, "Attribute", "Name", "Value"); len(attrs) > 0 {
		in.Attributes = map[string]string{}
		for _, a := range attrs {
			in.Attributes[a["Name"]] = a["Value"]
		}
	}
	if tags := formMembers(form, "Tag", "Key", "Value"); len(tags) > 0 {
		in.Tags = map[string]string{}
		for _, t := range tags {
			in.Tags[t["Key"]] = t["Value"]
		}
	}
	for _, prefix := range []string{"SendMessageBatchRequestEntry", "DeleteMessageBatchRequestEntry"} {
		for i := 1; ; i++ {
			p := fmt.Sprintf("%s.%d.", prefix, i)
			if _, ok := form[p+"Id"]; !ok {
				break
			}
			e := map[string]any{"Id": form.Get(p + "Id"), "MessageBody": form.Get(p + "MessageBody"), "ReceiptHandle": form.Get(p + "ReceiptHandle")}
			if d := formInt(form, p+"DelaySeconds"); d != nil {
				e["DelaySeconds"] = *d
			}
			if a := formAttrs(form, p+"MessageAttribute"); a != nil {
				e["MessageAttributes"] = a
			}
			raw, _ := json.Marshal(e)
			in.Entries = append(in.Entries, raw)
		}
	}
	return in
}

// sqsResult answers in the protocol of the request.
func sqsResult(req *Request, v any) (*Response, error) {
	if req.Service.Protocol != ProtocolQuery {
		return JSONResult(v)
	}
	var generic map[string]any
	if v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode sqs result: %w", err)
		}
		if err := json.Unmarshal(b, &generic); err != nil {
			return nil, fmt.Errorf("encode sqs result: %w", err)
		}
	}
	var inner bytes.Buffer
	writeSQSFields(&inner, req.Operation, generic)
	return QueryResult(req, struct {
		Inner []byte `xml:",innerxml"`
	}{inner.Bytes()})
}

func el(b *bytes.Buffer, name, value string) {
	fmt.Fprintf(b, "<%s>%s</%s>", name, xmlEscape(value), name)
}

func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

func writeNameValues(b *bytes.Buffer, elem string, m map[string]any, keyName string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(b, "<%s>", elem)
		el(b, keyName, k)
		el(b, "Value", scalar(m[k]))
		fmt.Fprintf(b, "</%s>", elem)
	}
}

func writeSQSFields(b *bytes.Buffer, op string, m map[string]any) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := m[k]
		switch k {
		case "QueueUrls":
			for _, u := range v.([]any) {
				el(b, "QueueUrl", scalar(u))
			}
		case "Attributes":
			writeNameValues(b, "Attribute", v.(map[string]any), "Name")
		case "Tags":
			writeNameValues(b, "Tag", v.(map[string]any), "Key")
		case "MessageAttributes":
			attrs := v.(map[string]any)
			names := make([]string, 0, len(attrs))
			for n := range attrs {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				a := attrs[n].(map[string]any)
				b.WriteString("<MessageAttribute>")
				el(b, "Name", n)
				b.WriteString("<Value>")
				for _, f := range []string{"StringValue", "BinaryValue", "DataType"} {
					if x, ok := a[f]; ok {
						el(b, f, scalar(x))
					}
				}
				b.WriteString("</Value></MessageAttribute>")
			}
		case "Messages":
			for _, msg := range v.([]any) {
				b.WriteString("<Message>")
				writeSQSFields(b, op, msg.(map[string]any))
				b.WriteString("</Message>")
			}
		case "Successful", "Failed":
			elem := "BatchResultErrorEntry"
			if k == "Successful" {
				elem = op + "ResultEntry"
			}
			for _, e := range v.([]any) {
				fmt.Fprintf(b, "<%s>", elem)
				writeSQSFields(b, op, e.(map[string]any))
				fmt.Fprintf(b, "</%s>", elem)
			}
		default:
			el(b, k, scalar(v))
		}
	}
}
