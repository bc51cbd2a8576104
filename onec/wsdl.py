"""The static WSDL of the hub's SOAP service for 1С extensions (WS-ссылка), hand-written in
the style of 1С's own published services: one inline qualified schema, document/literal
wrapped (`Op` / `OpResponse` holding `return`), SOAP 1.1 and SOAP 1.2 ports, soapAction
`<namespace>#<Service>:<Op>`. Money is in roubles (xs:decimal, 2 places)."""
from __future__ import annotations

NS = "http://kopilka.ru/1c/loyalty"
SERVICE = "KopilkaLoyalty"
OPERATIONS = ("Calculate", "Confirm", "Cancel", "Refund", "FindCustomer", "RegisterCustomer", "GetBalance")

SCHEMA = f"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:tns="{NS}"
    targetNamespace="{NS}" elementFormDefault="qualified" attributeFormDefault="unqualified">
  <xs:complexType name="Position">
    <xs:sequence>
      <xs:element name="id" type="xs:string"/>
      <xs:element name="product" type="xs:string" minOccurs="0"/>
      <xs:element name="name" type="xs:string" minOccurs="0"/>
      <xs:element name="price" type="xs:decimal"/>
      <xs:element name="quantity" type="xs:decimal"/>
      <xs:element name="discount" type="xs:decimal" minOccurs="0"/>
      <xs:element name="group" type="xs:string" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="Receipt">
    <xs:sequence>
      <xs:element name="receiptId" type="xs:string"/>
      <xs:element name="card" type="xs:string" minOccurs="0"/>
      <xs:element name="phone" type="xs:string" minOccurs="0"/>
      <xs:element name="store" type="xs:string" minOccurs="0"/>
      <xs:element name="cashier" type="xs:string" minOccurs="0"/>
      <xs:element name="spendBonuses" type="xs:decimal" minOccurs="0"/>
      <xs:element name="position" type="tns:Position" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="PositionResult">
    <xs:sequence>
      <xs:element name="id" type="xs:string"/>
      <xs:element name="amount" type="xs:decimal"/>
      <xs:element name="discount" type="xs:decimal"/>
      <xs:element name="bonusSpent" type="xs:decimal"/>
      <xs:element name="bonusEarned" type="xs:decimal"/>
      <xs:element name="amountToPay" type="xs:decimal"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="Quote">
    <xs:sequence>
      <xs:element name="receiptId" type="xs:string"/>
      <xs:element name="amount" type="xs:decimal"/>
      <xs:element name="discount" type="xs:decimal"/>
      <xs:element name="levelDiscount" type="xs:decimal"/>
      <xs:element name="bonusSpent" type="xs:decimal"/>
      <xs:element name="maxSpendable" type="xs:decimal"/>
      <xs:element name="bonusEarned" type="xs:decimal"/>
      <xs:element name="amountToPay" type="xs:decimal"/>
      <xs:element name="balance" type="xs:decimal"/>
      <xs:element name="balanceAfter" type="xs:decimal"/>
      <xs:element name="customerId" type="xs:string"/>
      <xs:element name="repeated" type="xs:boolean"/>
      <xs:element name="message" type="xs:string"/>
      <xs:element name="position" type="tns:PositionResult" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="Customer">
    <xs:sequence>
      <xs:element name="found" type="xs:boolean"/>
      <xs:element name="customerId" type="xs:string"/>
      <xs:element name="phone" type="xs:string"/>
      <xs:element name="card" type="xs:string"/>
      <xs:element name="name" type="xs:string"/>
      <xs:element name="email" type="xs:string"/>
      <xs:element name="balance" type="xs:decimal"/>
      <xs:element name="pending" type="xs:decimal"/>
      <xs:element name="level" type="xs:string"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="Released">
    <xs:sequence>
      <xs:element name="receiptId" type="xs:string"/>
      <xs:element name="released" type="xs:decimal"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="RefundLine">
    <xs:sequence>
      <xs:element name="id" type="xs:string"/>
      <xs:element name="quantity" type="xs:decimal"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="RefundResult">
    <xs:sequence>
      <xs:element name="refundId" type="xs:string"/>
      <xs:element name="receiptId" type="xs:string"/>
      <xs:element name="amountReturned" type="xs:decimal"/>
      <xs:element name="bonusRestored" type="xs:decimal"/>
      <xs:element name="bonusReversed" type="xs:decimal"/>
      <xs:element name="balance" type="xs:decimal"/>
      <xs:element name="repeated" type="xs:boolean"/>
    </xs:sequence>
  </xs:complexType>
  <xs:element name="Calculate"><xs:complexType><xs:sequence>
    <xs:element name="receipt" type="tns:Receipt"/></xs:sequence></xs:complexType></xs:element>
  <xs:element name="CalculateResponse"><xs:complexType><xs:sequence>
    <xs:element name="return" type="tns:Quote"/></xs:sequence></xs:complexType></xs:element>
  <xs:element name="Confirm"><xs:complexType><xs:sequence>
    <xs:element name="receipt" type="tns:Receipt"/></xs:sequence></xs:complexType></xs:element>
  <xs:element name="ConfirmResponse"><xs:complexType><xs:sequence>
    <xs:element name="return" type="tns:Quote"/></xs:sequence></xs:complexType></xs:element>
  <xs:element name="Cancel"><xs:complexType><xs:sequence>
    <xs:element name="receiptId" type="xs:string"/>
    <xs:element name="card" type="xs:string" minOccurs="0"/>
    <xs:element name="phone" type="xs:string" minOccurs="0"/></xs:sequence></xs:complexType></xs:element>
  <xs:element name="CancelResponse"><xs:complexType><xs:sequence>
    <xs:element name="return" type="tns:Released"/></xs:sequence></xs:complexType></xs:element>
  <xs:element name="Refund"><xs:complexType><xs:sequence>
    <xs:element name="refundId" type="xs:string"/>
    <xs:element name="receiptId" type="xs:string"/>
    <xs:element name="line" type="tns:RefundLine" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence></xs:complexType></xs:element>
  <xs:element name="RefundResponse"><xs:complexType><xs:sequence>
    <xs:element name="return" type="tns:RefundResult"/></xs:sequence></xs:complexType></xs:element>
  <xs:element name="FindCustomer"><xs:complexType><xs:sequence>
    <xs:element name="card" type="xs:string" minOccurs="0"/>
    <xs:element name="phone" type="xs:string" minOccurs="0"/></xs:sequence></xs:complexType></xs:element>
  <xs:element name="FindCustomerResponse"><xs:complexType><xs:sequence>
    <xs:element name="return" type="tns:Customer"/></xs:sequence></xs:complexType></xs:element>
  <xs:element name="RegisterCustomer"><xs:complexType><xs:sequence>
    <xs:element name="phone" type="xs:string"/>
    <xs:element name="card" type="xs:string" minOccurs="0"/>
    <xs:element name="lastName" type="xs:string" minOccurs="0"/>
    <xs:element name="firstName" type="xs:string" minOccurs="0"/>
    <xs:element name="middleName" type="xs:string" minOccurs="0"/>
    <xs:element name="email" type="xs:string" minOccurs="0"/>
    <xs:element name="birthDate" type="xs:date" minOccurs="0"/></xs:sequence></xs:complexType></xs:element>
  <xs:element name="RegisterCustomerResponse"><xs:complexType><xs:sequence>
    <xs:element name="return" type="tns:Customer"/></xs:sequence></xs:complexType></xs:element>
  <xs:element name="GetBalance"><xs:complexType><xs:sequence>
    <xs:element name="card" type="xs:string" minOccurs="0"/>
    <xs:element name="phone" type="xs:string" minOccurs="0"/></xs:sequence></xs:complexType></xs:element>
  <xs:element name="GetBalanceResponse"><xs:complexType><xs:sequence>
    <xs:element name="return" type="tns:Customer"/></xs:sequence></xs:complexType></xs:element>
</xs:schema>"""


def _messages() -> str:
    out = []
    for op in OPERATIONS:
        out.append(f'  <message name="{op}RequestMessage"><part name="parameters" element="tns:{op}"/></message>')
        out.append(f'  <message name="{op}ResponseMessage"><part name="parameters" element="tns:{op}Response"/></message>')
    return "\n".join(out)


def _port_type() -> str:
    ops = "\n".join(f'    <operation name="{op}"><input message="tns:{op}RequestMessage"/>'
                    f'<output message="tns:{op}ResponseMessage"/></operation>' for op in OPERATIONS)
    return f'  <portType name="{SERVICE}PortType">\n{ops}\n  </portType>'


def _binding(prefix: str, name: str) -> str:
    ops = "\n".join(
        f'    <operation name="{op}"><{prefix}:operation style="document" soapAction="{NS}#{SERVICE}:{op}"/>'
        f'<input><{prefix}:body use="literal"/></input><output><{prefix}:body use="literal"/></output></operation>'
        for op in OPERATIONS)
    return (f'  <binding name="{name}" type="tns:{SERVICE}PortType">\n'
            f'    <{prefix}:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>\n'
            f'{ops}\n  </binding>')


def wsdl(address: str) -> str:
    from xml.sax.saxutils import quoteattr
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:soap12bind="http://schemas.xmlsoap.org/wsdl/soap12/"
    xmlns:soapbind="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:tns="{NS}"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema" name="{SERVICE}" targetNamespace="{NS}">
  <types>
{SCHEMA}
  </types>
{_messages()}
{_port_type()}
{_binding("soapbind", SERVICE + "Soap")}
{_binding("soap12bind", SERVICE + "Soap12")}
  <service name="{SERVICE}">
    <port name="{SERVICE}Soap" binding="tns:{SERVICE}Soap"><soapbind:address location={quoteattr(address)}/></port>
    <port name="{SERVICE}Soap12" binding="tns:{SERVICE}Soap12"><soap12bind:address location={quoteattr(address)}/></port>
  </service>
</definitions>
"""
