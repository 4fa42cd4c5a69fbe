package config

// Urgent is how urgent moves rank a patient's numbers. A key left out is
// the urgent package's default.
type Urgent struct {
	// Recent is how long an answered call or a reply makes a number the
	// first to try (default 8760h, a year); older, it ranks with a
	// delivered SMS.
	Recent Duration `yaml:"recent"`
	// History is how far back the numbers' calls, SMS and replies are
	// read (default 17520h, two years); at least Recent.
	History Duration `yaml:"history"`
}

func (u Urgent) validate(bad func(key, format string, a ...any), set func(key string, zero bool) bool) {
	if d := u.Recent.D(); set("urgent.recent", d == 0) && d <= 0 {
		bad("urgent.recent", "%s must be positive", d)
	}
	if d := u.History.D(); set("urgent.history", d == 0) && d <= 0 {
		bad("urgent.history", "%s must be positive", d)
	}
}
