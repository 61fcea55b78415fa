// Package jsfeed fills the live feed from JetStream: Source subscribes a
// reader to the SELLABLE stream through an ordered consumer of its own
// (filtered by location and SKU on the server, starting where the reader
// resumes), and DeadLetters reads the dead-letter stream back, newest
// first, for operators. Package feed says what a subscription promises;
// this package only moves messages into it.
package jsfeed
