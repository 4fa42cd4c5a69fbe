package offers

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/richiamo/richiamo/internal/cup"
)

// ReadExtracts reads the bookings of extract files for a ranking by hand:
// every unusable row comes back with its file, line and reason, and the
// rest is read on.
func ReadExtracts(paths []string, layout cup.Layout) ([]cup.Booking, []cup.Rejection, error) {
	var (
		bs   []cup.Booking
		rejs []cup.Rejection
	)
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, nil, fmt.Errorf("offers: %w", err)
		}
		r, err := cup.NewExtractReader(f, p, layout)
		if err != nil {
			f.Close()
			return nil, nil, err
		}
		for {
			b, rej, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				f.Close()
				return nil, nil, err
			}
			if rej != nil {
				rejs = append(rejs, *rej)
				continue
			}
			bs = append(bs, b)
		}
		f.Close()
	}
	if bs == nil {
		bs = []cup.Booking{}
	}
	return bs, rejs, nil
}
