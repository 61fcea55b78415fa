// Package client is a Go client for the inventory HTTP API, generated from
// api/openapi.yaml by oapi-codegen v2.8.2 (client.gen.go; `go generate
// ./client/` regenerates it, and TestGeneratedClientIsCurrent fails when
// the committed file is not what the document generates). Nothing in it is
// written by hand except counts.go, the constructors of the two count
// unions (a count is an integer or a string holding one, so the document
// spells it as oneOf and the generator as a union).
//
// ClientWithResponses decodes each answer into the type the document gives
// for its status (JSON201, JSON400, …) and keeps the raw body; Client
// returns the *http.Response as it is. An answer with a status or content
// type the document does not name comes back with every JSONxxx nil, not
// as an error: check StatusCode().
//
//	c, err := client.NewClientWithResponses("http://127.0.0.1:9091")
//	if err != nil {
//		return err
//	}
//	stored, err := c.AdjustWithResponse(ctx, &client.AdjustParams{IdempotencyKey: &key},
//		client.AdjustJSONRequestBody{LocationId: "STL", Sku: "123123", Count: client.AdjustmentCountOf(100)})
//	if err != nil {
//		return err
//	}
//	if stored.JSON400 != nil {
//		return fmt.Errorf("refused: %s (%s)", stored.JSON400.Error, *stored.JSON400.Field)
//	}
//	pos, err := c.GetPositionWithResponse(ctx, "STL", "123123", nil)
//	if err == nil && pos.JSON200 != nil {
//		fmt.Println(pos.JSON200.Count) // sellable: adjusted minus reserved
//	}
//
// The client is the one the load tool (loadtest) and the end-to-end tests
// (e2e) use, so the document is exercised by more than its own server's
// tests.
package client
