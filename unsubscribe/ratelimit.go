package unsubscribe

import "time"

// rateWindow is the period the per-client limit counts over.
const rateWindow = time.Minute
