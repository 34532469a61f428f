// A cXML OrderRequest of the kind suppliers receive from procurement networks, for trying a
// POST with an XML body. It carries no SharedSecret: a real one would end up in tickets.

export const CXML_CONTENT_TYPE = 'text/xml';

export function cxmlOrderRequest(now = new Date()): string {
  const timestamp = now.toISOString().replace(/\.\d{3}Z$/, '+00:00');
  const payloadId = `${now.getTime()}.harness@buyer.example`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.014/cXML.dtd">
<cXML payloadID="${payloadId}" timestamp="${timestamp}" xml:lang="en-US">
  <Header>
    <From>
      <Credential domain="NetworkID"><Identity>buyer.example</Identity></Credential>
    </From>
    <To>
      <Credential domain="DUNS"><Identity>123456789</Identity></Credential>
    </To>
    <Sender>
      <Credential domain="NetworkID"><Identity>buyer.example</Identity></Credential>
      <UserAgent>mTLS Harness</UserAgent>
    </Sender>
  </Header>
  <Request deploymentMode="test">
    <OrderRequest>
      <OrderRequestHeader orderID="PO-1001" orderDate="${timestamp}" type="new">
        <Total><Money currency="USD">42.00</Money></Total>
        <ShipTo>
          <Address addressID="HQ"><Name xml:lang="en">Buyer HQ</Name></Address>
        </ShipTo>
      </OrderRequestHeader>
      <ItemOut quantity="2" lineNumber="1">
        <ItemID><SupplierPartID>SKU-1001</SupplierPartID></ItemID>
        <ItemDetail>
          <UnitPrice><Money currency="USD">21.00</Money></UnitPrice>
          <Description xml:lang="en">Test item</Description>
          <UnitOfMeasure>EA</UnitOfMeasure>
        </ItemDetail>
      </ItemOut>
    </OrderRequest>
  </Request>
</cXML>
`;
}

/** Sets (or replaces) one header in "Name: value" lines, keeping the others in order. */
export function withHeader(headersText: string, name: string, value: string): string {
  const lines = headersText.split(/\r?\n/).filter((line) => line.trim() !== '');
  const index = lines.findIndex((line) => line.split(':')[0]?.trim().toLowerCase() === name.toLowerCase());
  const line = `${name}: ${value}`;
  if (index === -1) lines.push(line);
  else lines[index] = line;
  return lines.join('\n');
}
