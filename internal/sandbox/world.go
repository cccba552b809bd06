package sandbox

// World is a parsed world file.
type World struct {
	Accounts []WorldAccount `yaml:"accounts"`
}

// WorldAccount is one account in the world file.
type WorldAccount struct {
	ID      string   `yaml:"id"`
	Alias   string   `yaml:"alias"`
	Regions []string `yaml:"regions"`
}

// DefaultWorld returns the built-in world.
func DefaultWorld() (*World, error) {
	return &World{Accounts: []WorldAccount{{ID: "111111111111", Alias: "acme-prod", Regions: []string{"us-east-1"}}}}, nil
}
