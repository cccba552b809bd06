package pattern

import (
	"os"
	"testing"
)

// The EC2 event used throughout the EventBridge "Event patterns" page.
const ec2Event = `{
  "version": "0",
  "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
  "detail-type": "EC2 Instance State-change Notification",
  "source": "aws.ec2",
  "account": "111122223333",
  "time": "2017-12-22T18:43:48Z",
  "region": "us-west-1",
  "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
  "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated"}
}`

// The event of the "Content filtering" page's numeric and multiple-matching
// examples.
const countsEvent = `{
  "version": "0", "id": "1", "detail-type": "x", "source": "com.mycompany.myapp",
  "account": "123456789012", "time": "2017-10-02T18:43:48Z", "region": "us-east-1", "resources": [],
  "detail": {"state": "running", "c-count": 5, "d-count": 7, "x-limit": 301.8, "source-ip": "10.0.0.123"}
}`

// TestConformance holds the examples of the Amazon EventBridge user guide's
// pattern pages ("Event patterns", "Matching events on event field values",
// "Arrays in event patterns", "Content filtering in Amazon EventBridge
// event patterns", "Comparison operators"), each naming its section.
func TestConformance(t *testing.T) {
	tests := []struct {
		section string
		pattern string
		event   string
		want    bool
	}{
		{"Event patterns: EC2 termination", `{"source":["aws.ec2"],"detail-type":["EC2 Instance State-change Notification"],"detail":{"state":["terminated"]}}`, ec2Event, true},
		{"Event patterns: EC2 termination, other state", `{"source":["aws.ec2"],"detail-type":["EC2 Instance State-change Notification"],"detail":{"state":["running"]}}`, ec2Event, false},
		{"Event patterns: fields not in the pattern are ignored", `{"source":["aws.ec2"]}`, ec2Event, true},
		{"Event patterns: values are case-sensitive", `{"source":["AWS.EC2"]}`, ec2Event, false},
		{"Event patterns: a field the event lacks fails", `{"detail":{"reason":["x"]}}`, ec2Event, false},
		{"Event patterns: any value of the list", `{"detail":{"state":["stopped","terminated"]}}`, ec2Event, true},

		{"Field values: null matches null", `{"source":["aws.autoscaling"],"detail-type":["EC2 Instance Launch Successful"],"detail":{"responseElements":[null]}}`,
			`{"source":"aws.autoscaling","detail-type":"EC2 Instance Launch Successful","resources":[],"detail":{"eventVersion":"","responseElements":null}}`, true},
		{"Field values: empty string matches empty string", `{"source":["aws.autoscaling"],"detail":{"eventVersion":[""]}}`,
			`{"source":"aws.autoscaling","detail":{"eventVersion":"","responseElements":null}}`, true},
		{"Field values: null does not match a missing field", `{"detail":{"responseElements":[null]}}`, `{"detail":{"eventVersion":""}}`, false},
		{"Field values: null does not match the empty string", `{"detail":{"eventVersion":[null]}}`, `{"detail":{"eventVersion":""}}`, false},
		{"Field values: Macie severity score and count", `{"source":["aws.macie"],"detail-type":["Macie Finding"],"detail":{"severity":{"score":[1]},"count":[2]}}`,
			`{"source":"aws.macie","detail-type":"Macie Finding","detail":{"type":"Policy:IAMUser/S3BucketEncryptionDisabled","severity":{"score":1,"description":"Low"},"count":2}}`, true},
		{"Field values: numbers compare by value", `{"detail":{"x":[300]}}`, `{"detail":{"x":3e2}}`, true},
		{"Field values: 300 matches 300.0", `{"detail":{"x":[300]}}`, `{"detail":{"x":300.0}}`, true},
		{"Field values: strings never equal numbers", `{"detail":{"x":["300"]}}`, `{"detail":{"x":300}}`, false},
		{"Field values: true matches true", `{"detail":{"ok":[true]}}`, `{"detail":{"ok":true}}`, true},
		{"Field values: true does not match \"true\"", `{"detail":{"ok":[true]}}`, `{"detail":{"ok":"true"}}`, false},

		{"Arrays: pattern and event arrays intersect", `{"resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f","arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f","arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f"]}`,
			`{"resources":["arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate","arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"]}`, true},
		{"Arrays: no common value", `{"resources":["arn:aws:ec2:us-east-1:999999999999:instance/i-b188560f"]}`,
			`{"resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"]}`, false},

		{"Content filtering: prefix", `{"time":[{"prefix":"2017-10-02"}]}`, `{"time":"2017-10-02T18:43:48Z"}`, true},
		{"Content filtering: prefix, other date", `{"time":[{"prefix":"2017-10-02"}]}`, `{"time":"2017-10-03T18:43:48Z"}`, false},
		{"Content filtering: prefix only matches strings", `{"x":[{"prefix":"1"}]}`, `{"x":12}`, false},
		{"Content filtering: prefix ignoring case", `{"service":[{"prefix":{"equals-ignore-case":"EventB"}}]}`, `{"service":"EVENTBRIDGE"}`, true},
		{"Content filtering: prefix ignoring case, lower", `{"service":[{"prefix":{"equals-ignore-case":"EventB"}}]}`, `{"service":"eventbridge"}`, true},
		{"Content filtering: suffix", `{"FileName":[{"suffix":".png"}]}`, `{"FileName":"image.png"}`, true},
		{"Content filtering: suffix is case-sensitive", `{"FileName":[{"suffix":".png"}]}`, `{"FileName":"image.PNG"}`, false},
		{"Content filtering: suffix ignoring case", `{"FileName":[{"suffix":{"equals-ignore-case":".png"}}]}`, `{"FileName":"image.PNG"}`, true},
		{"Content filtering: anything-but string", `{"detail":{"state":[{"anything-but":"initializing"}]}}`, `{"detail":{"state":"running"}}`, true},
		{"Content filtering: anything-but string, excluded", `{"detail":{"state":[{"anything-but":"initializing"}]}}`, `{"detail":{"state":"initializing"}}`, false},
		{"Content filtering: anything-but never matches a missing field", `{"detail":{"state":[{"anything-but":"initializing"}]}}`, `{"detail":{"x":1}}`, false},
		{"Content filtering: anything-but number", `{"detail":{"x-limit":[{"anything-but":123}]}}`, `{"detail":{"x-limit":124}}`, true},
		{"Content filtering: anything-but number, excluded by value", `{"detail":{"x-limit":[{"anything-but":123}]}}`, `{"detail":{"x-limit":1.23e2}}`, false},
		{"Content filtering: anything-but list of strings", `{"detail":{"state":[{"anything-but":["stopped","overloaded"]}]}}`, `{"detail":{"state":"stopped"}}`, false},
		{"Content filtering: anything-but list of strings, other", `{"detail":{"state":[{"anything-but":["stopped","overloaded"]}]}}`, `{"detail":{"state":"running"}}`, true},
		{"Content filtering: anything-but list of numbers", `{"detail":{"x-limit":[{"anything-but":[100,200,300]}]}}`, `{"detail":{"x-limit":200}}`, false},
		{"Content filtering: anything-but list of numbers, other", `{"detail":{"x-limit":[{"anything-but":[100,200,300]}]}}`, `{"detail":{"x-limit":301.8}}`, true},
		{"Content filtering: anything-but prefix", `{"detail":{"state":[{"anything-but":{"prefix":"init"}}]}}`, `{"detail":{"state":"initializing"}}`, false},
		{"Content filtering: anything-but prefix, other", `{"detail":{"state":[{"anything-but":{"prefix":"init"}}]}}`, `{"detail":{"state":"running"}}`, true},
		{"Content filtering: anything-but suffix", `{"detail":{"FileName":[{"anything-but":{"suffix":".txt"}}]}}`, `{"detail":{"FileName":"notes.txt"}}`, false},
		{"Content filtering: anything-but suffix, other", `{"detail":{"FileName":[{"anything-but":{"suffix":".txt"}}]}}`, `{"detail":{"FileName":"image.png"}}`, true},
		{"Content filtering: anything-but ignoring case", `{"detail":{"state":[{"anything-but":{"equals-ignore-case":["Stopped","OverLoaded"]}}]}}`, `{"detail":{"state":"STOPPED"}}`, false},
		{"Content filtering: anything-but ignoring case, other", `{"detail":{"state":[{"anything-but":{"equals-ignore-case":["Stopped","OverLoaded"]}}]}}`, `{"detail":{"state":"running"}}`, true},
		{"Content filtering: anything-but wildcard", `{"detail":{"FilePath":[{"anything-but":{"wildcard":"*/lib/*"}}]}}`, `{"detail":{"FilePath":"/usr/lib/x.so"}}`, false},
		{"Content filtering: anything-but wildcard, other", `{"detail":{"FilePath":[{"anything-but":{"wildcard":"*/lib/*"}}]}}`, `{"detail":{"FilePath":"/usr/bin/x"}}`, true},
		{"Content filtering: anything-but wildcard list", `{"detail":{"FilePath":[{"anything-but":{"wildcard":["*/lib/*","*/bin/*"]}}]}}`, `{"detail":{"FilePath":"/usr/bin/x"}}`, false},
		{"Content filtering: numeric", `{"detail":{"c-count":[{"numeric":[">",0,"<=",5]}],"d-count":[{"numeric":["<",10]}],"x-limit":[{"numeric":["=",3.018e2]}]}}`, countsEvent, true},
		{"Content filtering: numeric, out of range", `{"detail":{"c-count":[{"numeric":[">",0,"<",5]}]}}`, countsEvent, false},
		{"Content filtering: numeric only matches numbers", `{"detail":{"state":[{"numeric":[">",0]}]}}`, `{"detail":{"state":"5"}}`, false},
		{"Content filtering: IP address", `{"detail":{"source-ip":[{"cidr":"10.0.0.0/24"}]}}`, countsEvent, true},
		{"Content filtering: IP address outside the block", `{"detail":{"source-ip":[{"cidr":"10.0.1.0/24"}]}}`, countsEvent, false},
		{"Content filtering: IPv6 address", `{"detail":{"sourceIPAddress":[{"cidr":"2001:db8::/32"}]}}`, `{"detail":{"sourceIPAddress":"2001:db8:0:0:0:ff00:42:8329"}}`, true},
		{"Content filtering: IPv6 block does not hold IPv4", `{"detail":{"sourceIPAddress":[{"cidr":"2001:db8::/32"}]}}`, `{"detail":{"sourceIPAddress":"10.0.0.1"}}`, false},
		{"Content filtering: exists", `{"detail":{"state":[{"exists":true}]}}`, ec2Event, true},
		{"Content filtering: exists, missing", `{"detail":{"c-count":[{"exists":true}]}}`, ec2Event, false},
		{"Content filtering: does not exist", `{"detail":{"c-count":[{"exists":false}]}}`, ec2Event, true},
		{"Content filtering: does not exist, present", `{"detail":{"state":[{"exists":false}]}}`, ec2Event, false},
		{"Content filtering: exists only on leaf nodes", `{"detail":[{"exists":true}]}`, ec2Event, false},
		{"Content filtering: exists matches null", `{"detail":{"r":[{"exists":true}]}}`, `{"detail":{"r":null}}`, true},
		{"Content filtering: equals-ignore-case", `{"detail-type":[{"equals-ignore-case":"ec2 instance state-change notification"}]}`, ec2Event, true},
		{"Content filtering: wildcard", `{"EventBusArn":[{"wildcard":"arn:aws:events:us-east-1:*:event-bus/*"}]}`, `{"EventBusArn":"arn:aws:events:us-east-1:123456789012:event-bus/default"}`, true},
		{"Content filtering: wildcard, other region", `{"EventBusArn":[{"wildcard":"arn:aws:events:us-east-1:*:event-bus/*"}]}`, `{"EventBusArn":"arn:aws:events:eu-west-1:123456789012:event-bus/default"}`, false},
		{"Content filtering: wildcard across folders", `{"FileName":[{"wildcard":"dir/*.png"}]}`, `{"FileName":"dir/subdir/image.png"}`, true},
		{"Content filtering: wildcard escaped star", `{"FileName":[{"wildcard":"a\\*b"}]}`, `{"FileName":"a*b"}`, true},
		{"Content filtering: wildcard escaped star is literal", `{"FileName":[{"wildcard":"a\\*b"}]}`, `{"FileName":"axb"}`, false},
		{"Content filtering: multiple matching", `{"time":[{"prefix":"2017-10-02"}],"detail":{"state":[{"anything-but":"initializing"}],"c-count":[{"numeric":[">",0,"<=",5]}],"d-count":[{"numeric":["<",10]}],"x-limit":[{"anything-but":[100,200,300]}]}}`, countsEvent, true},
		{"Content filtering: $or of fields", `{"detail":{"$or":[{"c-count":[{"numeric":[">",0,"<=",5]}]},{"d-count":[{"numeric":["<",10]}]},{"x-limit":[{"numeric":["=",3.018e2]}]}]}}`,
			`{"detail":{"c-count":50,"d-count":70,"x-limit":301.8}}`, true},
		{"Content filtering: $or, none holds", `{"detail":{"$or":[{"c-count":[{"numeric":[">",0,"<=",5]}]},{"d-count":[{"numeric":["<",10]}]}]}}`,
			`{"detail":{"c-count":50,"d-count":70}}`, false},
		{"Content filtering: $or with a common field", `{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization","ReadLatency"]},{"namespace":["AWS/EC2","AWS/ES"]}]}`,
			`{"source":"aws.cloudwatch","metricName":"DiskWrite","namespace":"AWS/EC2"}`, true},
		{"Content filtering: $or with a common field, common field fails", `{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization","ReadLatency"]},{"namespace":["AWS/EC2","AWS/ES"]}]}`,
			`{"source":"aws.rds","metricName":"CPUUtilization"}`, false},
		{"Content filtering: nested $or", `{"source":["aws.cloudwatch"],"$or":[{"metricType":["MetricType"],"$or":[{"metricId":[10]},{"namespace":["AWS/EC2"]}]},{"scope":["Service"]}]}`,
			`{"source":"aws.cloudwatch","metricType":"MetricType","namespace":"AWS/EC2"}`, true},

		{"Comparison operators: Location and Day", `{"Location":["New York"],"Day":["Monday"]}`, `{"Location":"New York","Day":"Monday"}`, true},
		{"Comparison operators: Region not in the US", `{"Region":[{"anything-but":{"prefix":"us-"}}]}`, `{"Region":"eu-west-1"}`, true},
		{"Comparison operators: Region in the US", `{"Region":[{"prefix":"us-"}]}`, `{"Region":"us-east-2"}`, true},
		{"Comparison operators: LastName is empty", `{"LastName":[""]}`, `{"LastName":""}`, true},
		{"Comparison operators: Name equals ignoring case", `{"Name":[{"equals-ignore-case":"alice"}]}`, `{"Name":"ALICE"}`, true},
		{"Comparison operators: ProductName does not exist", `{"ProductName":[{"exists":false}]}`, `{"Name":"x"}`, true},
		{"Comparison operators: Weather anything but Raining", `{"Weather":[{"anything-but":["Raining"]}]}`, `{"Weather":"Sunny"}`, true},
		{"Comparison operators: UserID is null", `{"UserID":[null]}`, `{"UserID":null}`, true},
		{"Comparison operators: Price is 100", `{"Price":[100]}`, `{"Price":100.0}`, true},
		{"Comparison operators: Price in (10, 20]", `{"Price":[{"numeric":[">",10,"<=",20]}]}`, `{"Price":20}`, true},
		{"Comparison operators: PaymentType Credit or Debit", `{"PaymentType":["Credit","Debit"]}`, `{"PaymentType":"Debit"}`, true},
		{"Comparison operators: Location or Day", `{"$or":[{"Location":["New York"]},{"Day":["Monday"]}]}`, `{"Location":"Boston","Day":"Monday"}`, true},
		{"Comparison operators: png files in dir", `{"FileName":[{"wildcard":"dir/*.png"}]}`, `{"FileName":"dir/a.png"}`, true},

		{"event-ruler: array consistency, same element", `{"a":{"b":[1],"c":[2]}}`, `{"a":[{"b":1,"c":2},{"b":3,"c":4}]}`, true},
		{"event-ruler: array consistency, different elements", `{"a":{"b":[1],"c":[4]}}`, `{"a":[{"b":1,"c":2},{"b":3,"c":4}]}`, false},
		{"event-ruler: exists false on an object-valued field", `{"detail":[{"exists":false}]}`, ec2Event, true},
		{"event-ruler: array consistency, one finding critical and new", `{"detail":{"findings":{"Severity":{"Label":["CRITICAL"]},"Workflow":{"Status":["NEW"]}}}}`,
			`{"detail":{"findings":[{"Severity":{"Label":"LOW"},"Workflow":{"Status":"NEW"}},{"Severity":{"Label":"CRITICAL"},"Workflow":{"Status":"NEW"}}]}}`, true},
		{"event-ruler: array consistency, critical and new in different findings", `{"detail":{"findings":{"Severity":{"Label":["CRITICAL"]},"Workflow":{"Status":["NEW"]}}}}`,
			`{"detail":{"findings":[{"Severity":{"Label":"CRITICAL"},"Workflow":{"Status":"RESOLVED"}},{"Severity":{"Label":"LOW"},"Workflow":{"Status":"NEW"}}]}}`, false},
		{"event-ruler: numeric beyond six decimals", `{"x":[{"numeric":[">",0]}]}`, `{"x":0.0000001}`, true},
		{"Content filtering: equals-ignore-case uses Unicode case folding", `{"x":[{"equals-ignore-case":"straße"}]}`, `{"x":"STRAẞE"}`, true},
		{"Content filtering: cidr does not match IPv4-mapped IPv6", `{"x":[{"cidr":"10.0.0.0/8"}]}`, `{"x":"::ffff:10.0.0.1"}`, false},
		{"event-ruler: leaf operators never match objects", `{"detail":[{"anything-but":"x"}]}`, ec2Event, false},
	}
	for _, tc := range tests {
		t.Run(tc.section, func(t *testing.T) {
			m := NewMatcher()
			if err := m.Add("p", []byte(tc.pattern)); err != nil {
				t.Fatal(err)
			}
			got, err := m.Match([]byte(tc.event), nil)
			if err != nil {
				t.Fatal(err)
			}
			if (len(got) == 1) != tc.want {
				t.Errorf("got match %v, want %v", len(got) == 1, tc.want)
			}
			ref, err := refMatch([]byte(tc.pattern), []byte(tc.event))
			if err != nil {
				t.Fatal(err)
			}
			if ref != tc.want {
				t.Errorf("reference matcher: got %v, want %v", ref, tc.want)
			}
		})
	}
}

// TestBigEvent matches event-ruler's 256 KB CloudTrail event, whose changes
// array has 740 elements, against its rule.
func TestBigEvent(t *testing.T) {
	rule, err := os.ReadFile("testdata/bigEventRule.json")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := os.ReadFile("testdata/bigEvent.json")
	if err != nil {
		t.Fatal(err)
	}
	m := NewMatcher()
	if err := m.Add("big", rule); err != nil {
		t.Fatal(err)
	}
	got, err := m.Match(ev, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Errorf("bigEventRule does not match bigEvent")
	}
	want, err := refMatch(rule, ev)
	if err != nil || !want {
		t.Errorf("reference matcher: %v, %v", want, err)
	}
}
