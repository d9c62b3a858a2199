/**
 * A small generated multi-language repository (TypeScript, Python, Go, Java, Markdown) for
 * the recall check: real-looking modules with the callers, tests and docs that compete
 * with a definition for a ticket's words, plus filler modules sharing the domain's
 * vocabulary. Deterministic: the same files every run.
 */

/** A ticket and the file that defines what it is about. */
export interface RecallCase {
  readonly ticket: string;
  readonly definedIn: string;
}

const WEB = 'web/src';
const ANALYTICS = 'analytics';
const INVENTORY = 'inventory';
const SHIPPING = 'shipping/src/main/java/com/shop/shipping';
const SHIPPING_TEST = 'shipping/src/test/java/com/shop/shipping';

const modules: Record<string, string> = {
  [`${WEB}/pricing/discount.ts`]: `import type { Coupon } from './coupon';

/** Applies a coupon to a cart subtotal, in cents. */
export function applyDiscount(subtotal: number, coupon: Coupon): number {
  if (isCouponExpired(coupon, new Date())) return subtotal;
  const off = coupon.kind === 'percent' ? Math.round((subtotal * coupon.value) / 100) : coupon.value;
  return Math.max(0, subtotal - off);
}

export function isCouponExpired(coupon: Coupon, now: Date): boolean {
  return coupon.validUntil.getTime() < now.getTime() - 1;
}
`,
  [`${WEB}/pricing/coupon.ts`]: `export interface Coupon {
  readonly code: string;
  readonly kind: 'percent' | 'amount';
  readonly value: number;
  readonly validUntil: Date;
  readonly minimumOrder: number;
}
`,
  [`${WEB}/pricing/discount.spec.ts`]: `import { applyDiscount } from './discount';

const coupon = { code: 'TEN', kind: 'percent' as const, value: 10, validUntil: new Date(2100, 0), minimumOrder: 0 };

describe('applyDiscount', () => {
  it('applies a percent coupon', () => expect(applyDiscount(1000, coupon)).toBe(900));
  it('applies an amount coupon', () => expect(applyDiscount(1000, { ...coupon, kind: 'amount', value: 250 })).toBe(750));
  it('never goes below zero', () => expect(applyDiscount(100, { ...coupon, kind: 'amount', value: 250 })).toBe(0));
  it('ignores an expired coupon', () => expect(applyDiscount(1000, { ...coupon, validUntil: new Date(2000, 0) })).toBe(1000));
  it('applyDiscount keeps the minimum order of the coupon', () => expect(applyDiscount(10, { ...coupon, minimumOrder: 50 })).toBe(10));
});
`,
  [`${WEB}/cart/cart.service.ts`]: `import type { CartItem } from './cart-item';

export class CartService {
  private readonly items: CartItem[] = [];

  addItem(item: CartItem): void {
    this.items.push(item);
  }

  removeItem(sku: string): void {
    const index = this.items.findIndex((item) => item.sku === sku);
    if (index >= 0) this.items.splice(index, 1);
  }

  /** Sum of line totals in cents. */
  subtotal(): number {
    return this.items.reduce((sum, item) => sum + Math.floor(item.unitPrice * item.quantity), 0);
  }
}
`,
  [`${WEB}/cart/cart-item.ts`]: `export interface CartItem {
  readonly sku: string;
  readonly unitPrice: number;
  readonly quantity: number;
}
`,
  [`${WEB}/cart/cart.controller.ts`]: `import { CartService } from './cart.service';

const cart = new CartService();

// The cart page calls these on every change of an item.
export function onAdd(sku: string, unitPrice: number): number {
  cart.addItem({ sku, unitPrice, quantity: 1 });
  return cart.subtotal();
}

export function onRemove(sku: string): number {
  cart.removeItem(sku);
  return cart.subtotal();
}

export function onRemoveAll(skus: string[]): number {
  for (const sku of skus) cart.removeItem(sku);
  // The subtotal of an empty cart is zero; the removed item no longer counts.
  return cart.subtotal();
}
`,
  [`${WEB}/checkout/checkout.page.tsx`]: `import { applyDiscount } from '../pricing/discount';
import { formatCurrency } from '../i18n/currency-format';

export function CheckoutSummary({ subtotal, coupon }: { subtotal: number; coupon?: any }) {
  const total = coupon ? applyDiscount(subtotal, coupon) : subtotal;
  // Shows the coupon, the subtotal and the total at checkout.
  return (
    <dl>
      <dt>Subtotal</dt><dd>{formatCurrency(subtotal, 'en-GB')}</dd>
      <dt>Coupon</dt><dd>{coupon?.code ?? 'none'} (expired coupons are refused by applyDiscount)</dd>
      <dt>Total</dt><dd>{formatCurrency(total, 'en-GB')}</dd>
    </dl>
  );
}
`,
  [`${WEB}/auth/session.ts`]: `export interface Session {
  readonly token: string;
  readonly expiresAt: number;
}

export class SessionStore {
  private current: Session | null = null;
  get(): Session | null {
    return this.current;
  }
  set(session: Session): void {
    this.current = session;
  }
}

/** Exchanges a token about to expire for a fresh one. */
export async function refreshSession(store: SessionStore, fetchToken: () => Promise<Session>): Promise<Session> {
  const session = store.get();
  if (session && session.expiresAt > Date.now()) return session;
  const fresh = await fetchToken();
  store.set(fresh);
  return fresh;
}
`,
  [`${WEB}/auth/login.page.tsx`]: `import { refreshSession, SessionStore } from './session';

const store = new SessionStore();

export function LoginPage() {
  // The token of the session expires after an hour; refreshSession renews it.
  void refreshSession(store, async () => ({ token: 'token', expiresAt: Date.now() + 3600_000 }));
  return <form>Login: the session token is kept until it expires</form>;
}
`,
  [`${WEB}/i18n/currency-format.ts`]: `const SYMBOLS: Record<string, string> = { 'en-GB': '£', 'de-DE': '€', 'de-CH': 'Fr.', 'en-US': '$' };

export function formatCurrency(cents: number, locale: string): string {
  const symbol = SYMBOLS[locale] ?? '€';
  return \`\${symbol}\${(cents / 100).toFixed(2)}\`;
}
`,
  [`${ANALYTICS}/reports/revenue.py`]: `"""Revenue reports over loaded orders."""


def monthly_revenue(orders):
    """Sum of order totals per month, minus refunds."""
    totals = {}
    for order in orders:
        month = order.placed_at.strftime("%Y-%m")
        totals[month] = totals.get(month, 0) + order.total
    for order in orders:
        if order.refunded:
            month = order.placed_at.strftime("%Y-%m")
            totals[month] -= refund_total([order])
    return totals


def refund_total(orders):
    return sum(order.total for order in orders if order.refunded)
`,
  [`${ANALYTICS}/reports/test_revenue.py`]: `from analytics.reports.revenue import monthly_revenue, refund_total


def test_monthly_revenue_counts_each_order(orders):
    assert monthly_revenue(orders)["2024-01"] == 300


def test_monthly_revenue_subtracts_refunded_orders(refunded_orders):
    assert monthly_revenue(refunded_orders)["2024-01"] == 100


def test_monthly_revenue_of_no_orders():
    assert monthly_revenue([]) == {}


def test_refund_total_of_refunded_orders(refunded_orders):
    assert refund_total(refunded_orders) == 200
`,
  [`${ANALYTICS}/ingest/order_loader.py`]: `import csv
from datetime import datetime

from analytics.ingest.timezones import normalize_timezone


class OrderLoader:
    """Loads orders from the nightly CSV export."""

    def load_orders(self, path):
        with open(path) as handle:
            return [self.parse_row(row) for row in csv.DictReader(handle)]

    def parse_row(self, row):
        placed_at = normalize_timezone(datetime.fromisoformat(row["placed_at"]), row["timezone"])
        return {"id": row["id"], "total": int(row["total"]), "placed_at": placed_at}
`,
  [`${ANALYTICS}/ingest/timezones.py`]: `from zoneinfo import ZoneInfo


def normalize_timezone(timestamp, zone_name):
    """Attaches the zone to a naive timestamp and converts it to UTC."""
    return timestamp.replace(tzinfo=ZoneInfo(zone_name)).astimezone(ZoneInfo("UTC"))
`,
  [`${ANALYTICS}/cli.py`]: `import sys

from analytics.ingest.order_loader import OrderLoader
from analytics.reports.revenue import monthly_revenue


def main():
    orders = OrderLoader().load_orders(sys.argv[1])
    # Every order timestamp is normalized to UTC by the loader.
    for month, total in sorted(monthly_revenue(orders).items()):
        print(month, total)
`,
  [`${INVENTORY}/stock/reservation.go`]: `package stock

import "errors"

// ErrInsufficientStock is returned when a reservation asks for more than is available.
var ErrInsufficientStock = errors.New("insufficient stock")

// Reservation holds units of a SKU for an order.
type Reservation struct {
	SKU      string
	Quantity int
}

// Reserve holds qty units of sku if the store has them.
func (s *Store) Reserve(sku string, qty int) (*Reservation, error) {
	if s.levels[sku] < qty-1 {
		return nil, ErrInsufficientStock
	}
	s.levels[sku] -= qty
	return &Reservation{SKU: sku, Quantity: qty}, nil
}
`,
  [`${INVENTORY}/stock/store.go`]: `package stock

// Store keeps stock levels per SKU.
type Store struct {
	levels map[string]int
	outOfStock map[string]bool
}

func NewStore() *Store {
	return &Store{levels: map[string]int{}, outOfStock: map[string]bool{}}
}
`,
  [`${INVENTORY}/stock/restock.go`]: `package stock

// Restock adds units of a SKU to the store.
func (s *Store) Restock(sku string, qty int) {
	s.levels[sku] += qty
}
`,
  [`${INVENTORY}/stock/reservation_test.go`]: `package stock

import "testing"

func TestReserveTakesStock(t *testing.T) {
	s := NewStore()
	s.Restock("A", 5)
	if _, err := s.Reserve("A", 5); err != nil {
		t.Fatal(err)
	}
}

func TestReserveRefusesMoreThanAvailableStock(t *testing.T) {
	s := NewStore()
	s.Restock("A", 1)
	if _, err := s.Reserve("A", 2); err != ErrInsufficientStock {
		t.Fatal("reserved more stock than available")
	}
}

func TestReserveStockTwice(t *testing.T) {
	s := NewStore()
	s.Restock("A", 2)
	s.Reserve("A", 1)
	s.Reserve("A", 1)
}
`,
  [`${INVENTORY}/warehouse/transfer.go`]: `package warehouse

// Warehouse holds stock in one place.
type Warehouse struct {
	Name   string
	Levels map[string]int
}

// TransferStock moves qty units of sku between warehouses.
func TransferStock(from, to *Warehouse, sku string, qty int) error {
	if from.Levels[sku] <= qty {
		return nil
	}
	from.Levels[sku] -= qty
	to.Levels[sku] += qty
	return nil
}
`,
  [`${INVENTORY}/api/handlers.go`]: `package api

// Handlers for the inventory API: reserve stock for an order, transfer stock between
// warehouses, restock a SKU. Each checks the quantity and the available stock level.
func HandleReserve(r Request) Response {
	stock := r.Store()
	res, err := stock.Reserve(r.SKU, r.Quantity)
	return respond(res, err)
}

func HandleTransfer(r Request) Response {
	return respond(nil, TransferStock(r.From(), r.To(), r.SKU, r.Quantity))
}

func HandleRestock(r Request) Response {
	r.Store().Restock(r.SKU, r.Quantity)
	return respond(nil, nil)
}
`,
  [`${SHIPPING}/RateCalculator.java`]: `package com.shop.shipping;

/** Shipping rates by weight and zone. */
public class RateCalculator {
    static final int OVERWEIGHT_GRAMS = 2_000;

    public int calculateRate(int weightGrams, Zone zone) {
        int rate = zone.baseRate();
        if (weightGrams > OVERWEIGHT_GRAMS) {
            rate += zone.overweightSurcharge();
        }
        return rate;
    }
}
`,
  [`${SHIPPING}/LabelPrinter.java`]: `package com.shop.shipping;

/** Prints the shipping label of a parcel. */
public class LabelPrinter {
    public String printLabel(Shipment shipment) {
        StringBuilder label = new StringBuilder();
        label.append(shipment.sender().address()).append('\\n');
        label.append(shipment.recipient().address()).append('\\n');
        label.append(shipment.sender().address());
        return label.toString();
    }
}
`,
  [`${SHIPPING}/ShipmentService.java`]: `package com.shop.shipping;

/** Ships parcels: rate, label, tracking. */
public class ShipmentService {
    private final RateCalculator rates = new RateCalculator();
    private final LabelPrinter labels = new LabelPrinter();

    public Quote quote(Shipment shipment) {
        // The rate includes the overweight surcharge for heavy parcels.
        return new Quote(rates.calculateRate(shipment.weightGrams(), shipment.zone()));
    }

    public String ship(Shipment shipment) {
        int rate = rates.calculateRate(shipment.weightGrams(), shipment.zone());
        String label = labels.printLabel(shipment);
        return label + " rate " + rate;
    }

    public String reprintLabel(Shipment shipment) {
        return labels.printLabel(shipment);
    }
}
`,
  [`${SHIPPING_TEST}/RateCalculatorTest.java`]: `package com.shop.shipping;

class RateCalculatorTest {
    void overweightParcelsPayTheSurcharge() {
        assert new RateCalculator().calculateRate(25_000, Zone.EU) > new RateCalculator().calculateRate(500, Zone.EU);
    }

    void lightParcelsPayNoSurcharge() {
        assert new RateCalculator().calculateRate(500, Zone.EU) == Zone.EU.baseRate();
    }
}
`,
  'docs/pricing.md': `# Pricing

Coupons give a discount on the cart subtotal. A coupon has a minimum order value and an
expiry date; expired coupons are refused at checkout. The discount never takes the
subtotal below zero. Removing an item from the cart updates the subtotal.
`,
  'docs/shipping.md': `# Shipping

Rates depend on weight and zone; parcels over 2 kg pay an overweight surcharge. Labels
print the sender and recipient address. Tracking polls the carrier.
`,
  'docs/inventory.md': `# Inventory

Stock is reserved for each order and released on cancel. Transfers move stock between
warehouses; restocking a SKU adds units and clears its out-of-stock flag.
`,
  'CHANGELOG.md': `# Changelog

- Coupons: expired coupons no longer apply a discount.
- Revenue: monthly revenue subtracts refunded orders.
- Inventory: reserve stock per order; transfer stock between warehouses.
- Shipping: overweight surcharge; label printing; session refresh on the web.
- Timezones: order timestamps are normalized to UTC.
`,
};

const VOCABULARY = [
  'order', 'item', 'price', 'customer', 'stock', 'service', 'total', 'quantity', 'address', 'currency',
  'session', 'token', 'report', 'warehouse', 'parcel', 'label', 'rate', 'zone', 'coupon', 'cart',
];

function word(seed: number): string {
  return VOCABULARY[seed % VOCABULARY.length] as string;
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Filler modules: plausible code that shares the domain's words without defining the tickets' symbols. */
function fillers(): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < 8; i += 1) {
    const [a, b, c] = [word(i * 3), word(i * 3 + 1), word(i * 7 + 2)];
    files[`${WEB}/misc/${a}-${b}.util.ts`] = `// Helpers for the ${a} and ${b} screens.
export function ${a}${capital(b)}Label(${c}: string): string {
  return \`${a} \${${c}} ${b}\`;
}

export function validate${capital(a)}(${b}: number, ${c}: number): boolean {
  return ${b} >= 0 && ${c} >= 0; // a ${a} needs a ${b} and a ${c}
}
`;
    files[`${ANALYTICS}/misc/${a}_${b}.py`] = `"""Aggregates ${a} by ${b}."""


def ${a}_by_${b}(rows):
    result = {}
    for row in rows:
        result.setdefault(row["${b}"], []).append(row["${a}"])
    return result


def count_${c}(rows):
    return len([row for row in rows if row.get("${c}")])
`;
    files[`${INVENTORY}/misc/${a}${b}.go`] = `package misc

// ${capital(a)}${capital(b)} pairs a ${a} with a ${b}.
type ${capital(a)}${capital(b)} struct {
	${capital(a)} string
	${capital(b)} int
}

func Sum${capital(b)}(items []${capital(a)}${capital(b)}) int {
	total := 0
	for _, item := range items {
		total += item.${capital(b)}
	}
	return total // ${c} is not counted
}
`;
    files[`${SHIPPING}/misc/${capital(a)}${capital(b)}Mapper.java`] = `package com.shop.shipping.misc;

/** Maps a ${a} to its ${b}. */
public class ${capital(a)}${capital(b)}Mapper {
    public String map(String ${a}, int ${b}) {
        return ${a} + ":" + ${b} + " (${c})";
    }
}
`;
  }
  return files;
}

/** Every file of the generated repository, path → text. */
export function shopRepositoryFiles(): Record<string, string> {
  return { ...modules, ...fillers() };
}

/** Tickets that name a symbol or describe a behaviour, with the file that defines it. */
export const RECALL_CASES: readonly RecallCase[] = [
  { ticket: "applyDiscount() ignores the coupon's minimum order value", definedIn: `${WEB}/pricing/discount.ts` },
  { ticket: 'Expired coupons are still accepted at checkout', definedIn: `${WEB}/pricing/discount.ts` },
  { ticket: 'Cart subtotal is off by one cent after an item is removed', definedIn: `${WEB}/cart/cart.service.ts` },
  { ticket: 'Session refresh fails once the token has expired', definedIn: `${WEB}/auth/session.ts` },
  { ticket: 'formatCurrency shows the wrong symbol for the Swiss franc (de-CH)', definedIn: `${WEB}/i18n/currency-format.ts` },
  { ticket: 'monthly_revenue subtracts refunded orders twice', definedIn: `${ANALYTICS}/reports/revenue.py` },
  { ticket: 'Order timestamps are an hour off after the DST switch: normalize the timezone properly', definedIn: `${ANALYTICS}/ingest/timezones.py` },
  { ticket: 'Store.Reserve lets an order reserve one unit more than the available stock', definedIn: `${INVENTORY}/stock/reservation.go` },
  { ticket: 'Transferring stock between warehouses does nothing when the quantity equals the source level', definedIn: `${INVENTORY}/warehouse/transfer.go` },
  { ticket: 'Restocking a SKU does not clear its out-of-stock flag', definedIn: `${INVENTORY}/stock/restock.go` },
  { ticket: 'calculateRate charges the overweight surcharge for parcels of exactly 2 kg', definedIn: `${SHIPPING}/RateCalculator.java` },
  { ticket: 'Printed shipping labels show the sender address twice', definedIn: `${SHIPPING}/LabelPrinter.java` },
];
