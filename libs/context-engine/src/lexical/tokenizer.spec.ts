import { indexTerms, pathTerms, queryIdentifiers, queryTerms, significantParts, splitIdentifier, stem } from './tokenizer';

describe('splitIdentifier', () => {
  it.each([
    ['parseDuration', ['parse', 'duration']],
    ['reserve_stock', ['reserve', 'stock']],
    ['HTTPServerError', ['http', 'server', 'error']],
    ['base64Url', ['base', '64', 'url']],
    ['MAX_LINES', ['max', 'lines']],
    ['$scope', ['scope']],
    ['plain', ['plain']],
  ])('%s → %j', (identifier, parts) => {
    expect(splitIdentifier(identifier)).toEqual(parts);
  });
});

describe('stem', () => {
  it.each([
    [['apply', 'applies', 'applying', 'applied'], 'apply'],
    [['parse', 'parses', 'parsing', 'parsed'], 'pars'],
    [['discount', 'discounts', 'discounted'], 'discount'],
    [['ship', 'shipping', 'shipped', 'ships'], 'ship'],
    [['tax', 'taxes'], 'tax'],
    [['match', 'matches', 'matching'], 'match'],
    [['class'], 'class'],
    [['status'], 'status'],
    [['string'], 'string'],
    [['sha256'], 'sha256'],
    [['reserve_stock'], 'reserve_stock'],
  ])('maps %j to %s', (forms, stemmed) => {
    expect(forms.map(stem)).toEqual(forms.map(() => stemmed));
  });
});

describe('indexTerms', () => {
  it('indexes an identifier whole and by its parts, lower-cased', () => {
    expect(indexTerms('totalWithTax')).toEqual(['totalwithtax', 'total', 'tax']);
  });

  it('keeps repeats, so counts are frequencies', () => {
    expect(indexTerms('cart cart Cart').filter((term) => term === 'cart')).toHaveLength(3);
  });

  it('takes words from comments and strings like any other text', () => {
    expect(indexTerms('// refunds the overdrawn account\nthrow new Error("insufficient funds")')).toEqual(
      expect.arrayContaining(['refund', 'overdrawn', 'account', 'insufficient', 'fund']),
    );
  });

  it('drops stopwords, single characters and overlong tokens', () => {
    const long = 'a'.repeat(65);
    expect(indexTerms(`the x return ${long} ok`)).toEqual(['ok']);
  });
});

describe('significantParts', () => {
  it('keeps the stemmed parts a ticket could contain, once each', () => {
    expect(significantParts('totalWithTax')).toEqual(['total', 'tax']);
    expect(significantParts('handle_error')).toEqual(['handl']); // stemmed, like the ticket's "handling"
    expect(significantParts('cartCart')).toEqual(['cart']);
  });
});

describe('pathTerms', () => {
  it('splits directories, file names and extensions', () => {
    expect(pathTerms('src/billing/invoice-total.service.ts')).toEqual(['src', 'bill', 'invoic', 'total', 'servic', 'ts']);
  });
});

describe('queryTerms', () => {
  it('drops ticket boilerplate but keeps what the bug is about, once each', () => {
    expect(queryTerms('Fix: wrong total when the cart total has a discount')).toEqual(['total', 'cart', 'discount']);
  });
});

describe('queryIdentifiers', () => {
  it('finds words written as code: camelCase, snake_case, calls, members, digits', () => {
    expect(queryIdentifiers('applyDiscount() breaks reserve_stock, Cart.total, cartStore.load() and sha256; the cart is fine')).toEqual([
      'applydiscount',
      'reserve_stock',
      'total',
      'cartstore',
      'load',
      'sha256',
    ]);
  });

  it('ignores plain prose', () => {
    expect(queryIdentifiers('The checkout page is slow')).toEqual([]);
  });
});
