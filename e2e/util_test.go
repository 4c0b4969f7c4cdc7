package e2e

import (
	"errors"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

func plainAuth(user, pass string) sasl.Client { return sasl.NewPlainClient("", user, pass) }

func asSMTPError(err error, target **smtp.SMTPError) bool { return errors.As(err, target) }
