"""Text of the sample Master Services Agreement, shared by the PDF and DOCX builders in make_samples.py.

Fictional parties and terms, written to exercise summarisation and Q&A: dates, amounts, notice periods,
a liability cap, and two unusual clauses (a 7% renewal price escalator and an exclusivity clause).
"""

from __future__ import annotations

TITLE = "MASTER SERVICES AGREEMENT"
PREAMBLE = [
    'This Master Services Agreement (the "Agreement") is entered into as of 1 March 2025 (the "Effective '
    'Date") by and between Northwind Analytics Ltd., a company incorporated in England and Wales under '
    "company number 09876543, with its registered office at 44 Harbour Street, Bristol BS1 4QA, United "
    'Kingdom ("Provider"), and Contoso Retail GmbH, a company registered in the commercial register of '
    "the Munich Local Court under HRB 223344, with its registered office at Leopoldstrasse 210, 80804 "
    'Munich, Germany ("Customer"). Provider and Customer are each a "Party" and together the "Parties".',
    "WHEREAS Provider operates a hosted retail demand-forecasting and analytics platform known as Northwind "
    "Forecast, and Customer wishes to use that platform and related professional services across its stores "
    "in Germany, Austria and Switzerland; NOW, THEREFORE, the Parties agree as follows.",
]

# (number, heading, paragraphs). Paragraphs starting with a clause number are sub-clauses.
SECTIONS: list[tuple[str, str, list[str]]] = [
    (
        "1",
        "Definitions",
        [
            '1.1 "Services" means the subscription to the Northwind Forecast platform, the implementation '
            "services and the support services described in each Statement of Work.",
            '1.2 "Statement of Work" or "SOW" means a document executed by both Parties that references this '
            "Agreement and describes specific Services, deliverables, milestones and fees.",
            '1.3 "Customer Data" means all data, including point-of-sale transactions, inventory records and '
            "loyalty-programme data, that Customer or its users submit to the Services.",
            '1.4 "Confidential Information" means any non-public information disclosed by one Party to the other '
            "that is marked as confidential or that a reasonable person would understand to be confidential.",
            '1.5 "Business Day" means a day other than a Saturday, Sunday or public holiday in Bavaria, Germany.',
        ],
    ),
    (
        "2",
        "Scope of Services",
        [
            "2.1 Provider shall provide the Services described in this Agreement and in each SOW. If a SOW "
            "conflicts with this Agreement, this Agreement prevails unless the SOW expressly states that it "
            "overrides a named clause of this Agreement.",
            "2.2 Provider shall make the platform available 99.5% of the time in each calendar month, excluding "
            "scheduled maintenance announced at least five (5) Business Days in advance. Service credits for "
            "missed availability are set out in Schedule 2 and are Customer's sole monetary remedy for downtime.",
            "2.3 Provider may engage subcontractors to perform parts of the Services, provided that Provider "
            "remains responsible for their performance and gives Customer thirty (30) days' prior written notice "
            "of any new subcontractor that will process Customer Data.",
        ],
    ),
    (
        "3",
        "Term and Renewal",
        [
            "3.1 This Agreement begins on the Effective Date and continues for an initial term of thirty-six (36) "
            'months (the "Initial Term").',
            "3.2 After the Initial Term, this Agreement renews automatically for successive renewal terms of "
            'twelve (12) months each (each a "Renewal Term") unless either Party gives written notice of '
            "non-renewal at least ninety (90) days before the end of the then-current term.",
            "3.3 Renewal price escalator. At the start of each Renewal Term the subscription fees then in effect "
            "shall increase automatically by seven percent (7%), without further notice or agreement, unless the "
            "Parties agree otherwise in writing before the renewal date.",
        ],
    ),
    (
        "4",
        "Fees and Payment Terms",
        [
            "4.1 Customer shall pay the fees set out in the Fee Schedule in Schedule 1. The annual platform "
            "subscription fee is EUR 240,000, invoiced quarterly in advance in instalments of EUR 60,000. The "
            "one-time implementation fee is EUR 85,000, invoiced on signature of this Agreement.",
            "4.2 Support services are charged at EUR 4,500 per month. Additional professional services are "
            "charged at a daily rate of EUR 1,350 per consultant day under the relevant SOW.",
            "4.3 All invoices are payable within thirty (30) days of the invoice date (net 30) by bank transfer "
            "to the account named on the invoice.",
            "4.4 Late payments bear interest at the rate of one percent (1%) per month, or the maximum rate "
            "permitted by law if lower, from the due date until the date of payment. If any undisputed amount is "
            "more than forty-five (45) days overdue, Provider may suspend the Services after giving ten (10) "
            "Business Days' written notice.",
            "4.5 Fees exclude value added tax and similar taxes, which Customer shall pay in addition at the "
            "applicable rate. Customer may dispute an invoice in good faith by written notice within fifteen (15) "
            "days of receipt, stating the reasons for the dispute.",
        ],
    ),
    (
        "5",
        "Customer Obligations",
        [
            "5.1 Customer shall provide Provider with timely access to the personnel, systems and data reasonably "
            "required to perform the implementation services.",
            "5.2 Customer is responsible for the accuracy of Customer Data and for obtaining all consents "
            "required to submit Customer Data to the Services.",
            "5.3 Customer shall not, and shall not permit any third party to, reverse engineer, resell or "
            "sublicense the Services, or use the Services to build a competing product.",
        ],
    ),
    (
        "6",
        "Exclusivity",
        [
            "6.1 During the Initial Term, Customer shall not procure demand-forecasting software or services for "
            "its stores in Germany, Austria or Switzerland from any third party, and Provider shall be Customer's "
            "exclusive provider of such services in those territories.",
            "6.2 The exclusivity in clause 6.1 lapses automatically if Provider fails to meet the availability "
            "commitment in clause 2.2 in any three (3) months within a rolling twelve (12) month period.",
            "6.3 During the Initial Term, Provider shall not provide the Northwind Forecast platform to any of "
            "the competitors of Customer listed in Schedule 3 for use in the same territories.",
        ],
    ),
    (
        "7",
        "Intellectual Property",
        [
            "7.1 Provider retains all rights, title and interest in the Services, the platform and all related "
            "intellectual property, including improvements made in the course of performing this Agreement.",
            "7.2 Customer retains all rights in Customer Data. Customer grants Provider a non-exclusive licence to "
            "use Customer Data solely to provide the Services during the term of this Agreement.",
            "7.3 Provider may use aggregated and anonymised data derived from the Services to improve its "
            "forecasting models, provided that such data does not identify Customer or any individual.",
        ],
    ),
    (
        "8",
        "Confidentiality",
        [
            "8.1 Each Party shall keep the other Party's Confidential Information confidential, use it only to "
            "perform or receive the Services, and disclose it only to employees, advisers and subcontractors who "
            "need to know it and who are bound by duties of confidentiality no less protective than this clause.",
            "8.2 The obligations in this clause do not apply to information that is or becomes public other than "
            "through a breach of this Agreement, that was lawfully known to the receiving Party before disclosure, "
            "or that is independently developed without use of the Confidential Information.",
            "8.3 The obligations in this clause survive termination or expiry of this Agreement for five (5) "
            "years, and indefinitely for trade secrets.",
        ],
    ),
    (
        "9",
        "Data Protection",
        [
            '9.1 Each Party shall comply with the General Data Protection Regulation (EU) 2016/679 ("GDPR") '
            "and all other applicable data protection laws. Provider processes personal data contained in "
            "Customer Data as a processor on behalf of Customer under the Data Processing Agreement in Schedule 4.",
            "9.2 Provider shall host Customer Data only in data centres located in the European Economic Area and "
            "shall not transfer Customer Data outside the European Economic Area without Customer's prior written "
            "consent.",
            "9.3 Provider shall notify Customer without undue delay, and in any event within forty-eight (48) "
            "hours, after becoming aware of a personal data breach affecting Customer Data.",
        ],
    ),
    (
        "10",
        "Warranties",
        [
            "10.1 Provider warrants that the Services will be performed with reasonable skill and care and will "
            "materially conform to the documentation. Customer's remedy for breach of this warranty is the "
            "re-performance of the non-conforming Services or, if re-performance fails, a pro-rata refund.",
            "10.2 Except as expressly stated in this Agreement, all warranties, conditions and terms implied by "
            "statute or common law are excluded to the fullest extent permitted by law.",
        ],
    ),
    (
        "11",
        "Limitation of Liability",
        [
            "11.1 Neither Party excludes or limits its liability for death or personal injury caused by its "
            "negligence, for fraud, for wilful misconduct, or for any liability that cannot be limited by law.",
            "11.2 Subject to clause 11.1, each Party's total aggregate liability arising out of or in connection "
            "with this Agreement shall not exceed the total fees paid and payable by Customer under this "
            "Agreement in the twelve (12) months immediately preceding the event giving rise to the claim.",
            "11.3 Subject to clause 11.1, neither Party shall be liable for any loss of profits, loss of "
            "revenue, loss of goodwill, or any indirect or consequential loss.",
            "11.4 The cap in clause 11.2 does not apply to Customer's obligation to pay the fees, or to either "
            "Party's breach of clause 9 (Data Protection), for which the cap shall be two (2) times the annual "
            "subscription fee.",
        ],
    ),
    (
        "12",
        "Indemnities",
        [
            "12.1 Provider shall defend and indemnify Customer against any third-party claim that the Services "
            "infringe that third party's intellectual property rights, subject to prompt notice of the claim and "
            "Provider having sole control of its defence and settlement.",
        ],
    ),
    (
        "13",
        "Termination",
        [
            "13.1 Termination for convenience. Either Party may terminate this Agreement for convenience by "
            "giving the other Party at least ninety (90) days' written notice. If Customer terminates for "
            "convenience during the Initial Term, Customer shall pay an early termination fee equal to fifty "
            "percent (50%) of the subscription fees that would have been payable for the remainder of the "
            "Initial Term.",
            "13.2 Termination for cause. Either Party may terminate this Agreement by written notice if the "
            "other Party commits a material breach and fails to cure that breach within thirty (30) days after "
            "receiving written notice describing the breach in reasonable detail.",
            "13.3 Either Party may terminate this Agreement immediately by written notice if the other Party "
            "becomes insolvent, enters into liquidation, or has a receiver or administrator appointed.",
            "13.4 On termination or expiry, Provider shall make Customer Data available for export for sixty "
            "(60) days and shall then delete it, unless retention is required by law.",
        ],
    ),
    (
        "14",
        "Governing Law and Disputes",
        [
            "14.1 This Agreement and any dispute arising out of or in connection with it are governed by the "
            "laws of England and Wales.",
            "14.2 The Parties shall first attempt to resolve any dispute through good-faith negotiation between "
            "senior executives for a period of twenty (20) Business Days. Disputes not so resolved shall be "
            "finally settled by the courts of London, England, which have exclusive jurisdiction.",
        ],
    ),
    (
        "15",
        "General",
        [
            "15.1 Notices under this Agreement must be in writing and delivered by hand, by courier or by email "
            "to the addresses set out in Schedule 5. Notices of breach or termination sent by email must also "
            "be sent by courier.",
            "15.2 Neither Party may assign this Agreement without the prior written consent of the other Party, "
            "except to an affiliate or to a successor to all or substantially all of its business.",
            "15.3 Neither Party is liable for delay caused by events beyond its reasonable control, provided that "
            "if such an event continues for more than sixty (60) days the other Party may terminate this "
            "Agreement by written notice.",
            "15.4 This Agreement, its Schedules and each SOW constitute the entire agreement between the Parties "
            "and supersede all prior agreements relating to their subject matter. Any amendment must be in "
            "writing and signed by both Parties.",
        ],
    ),
]

FEE_TABLE: list[list[str]] = [
    ["Item", "Amount (EUR)", "Billing"],
    ["Platform subscription", "240,000 per year", "Quarterly in advance (60,000)"],
    ["Implementation", "85,000 one-time", "On signature"],
    ["Support services", "4,500 per month", "Monthly in arrears"],
    ["Additional professional services", "1,350 per consultant day", "Monthly in arrears, per SOW"],
]
FEE_TABLE_CAPTION = "Schedule 1 - Fee Schedule"

SIGNATURES = [
    "IN WITNESS WHEREOF the Parties have executed this Agreement as of the Effective Date.",
    "For Northwind Analytics Ltd.: Eleanor Whitcombe, Chief Executive Officer, signed 26 February 2025.",
    "For Contoso Retail GmbH: Dr. Matthias Keller, Managing Director (Geschaeftsfuehrer), signed "
    "28 February 2025.",
]
