// Package suppression is the recipient check: one decision from sender,
// recipient and time to a verdict (allow, refuse with its reason, or a
// temporary failure), from the company's opt-outs, the suppression lists
// that govern the recipient's country, the CRM contacts that tell a
// recipient's phones, country and type, and the country policy. It knows
// nothing of SMTP.
package suppression
