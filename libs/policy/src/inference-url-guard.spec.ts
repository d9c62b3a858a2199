import { isLocalInferenceUrl } from './inference-url-guard';

describe('isLocalInferenceUrl', () => {
  it.each([
    'http://127.0.0.1:8000/v1',
    'http://127.9.9.9/',
    'http://localhost:11434/v1',
    'https://LOCALHOST./v1',
    'http://[::1]:8080/',
    'http://10.0.0.5/v1',
    'http://192.168.1.20:8000/',
    'http://172.16.0.1/',
    'http://172.31.255.254/',
    'http://[fd00::1]/',
    'http://[fd12:3456:789a::1]:8000/',
    'http://[fc00::1]/',
    'http://[::ffff:10.0.0.1]/',
    'http://0x7f.1/',
    'http://2130706433/',
    'http://llm.corp.internal/v1',
    'https://gpu-box.local:8443/',
  ])('accepts %s', (url) => {
    expect(isLocalInferenceUrl(url, [])).toBe(true);
  });

  it.each([
    'https://api.openai.com/v1',
    'http://8.8.8.8/',
    'http://172.15.0.1/',
    'http://172.32.0.1/',
    'http://192.169.0.1/',
    'http://11.0.0.1/',
    'http://169.254.169.254/latest/meta-data/',
    'http://[fe80::1]/',
    'http://[2001:db8::1]/',
    'http://[::ffff:8.8.8.8]/',
    'http://127.0.0.1.nip.io/',
    'http://internal/',
    'http://evil.com.internal.example.com/',
    'http://127.0.0.1@api.openai.com/',
    'ftp://127.0.0.1/',
    'file:///etc/passwd',
    'not a url',
  ])('refuses %s', (url) => {
    expect(isLocalInferenceUrl(url, [])).toBe(false);
  });

  it('accepts hosts the operator listed, case-insensitively, and only those', () => {
    const listed = ['Inference.Example.com', '203.0.113.7', '2001:db8::7'];
    expect(isLocalInferenceUrl('https://inference.example.com/v1', listed)).toBe(true);
    expect(isLocalInferenceUrl('http://203.0.113.7:8000/', listed)).toBe(true);
    expect(isLocalInferenceUrl('http://[2001:db8::7]/', listed)).toBe(true);
    expect(isLocalInferenceUrl('https://api.example.com/v1', listed)).toBe(false);
    expect(isLocalInferenceUrl('ftp://inference.example.com/', listed)).toBe(false);
  });

  it('ignores listed entries that are not bare hosts', () => {
    expect(isLocalInferenceUrl('https://api.openai.com/', ['https://api.openai.com/'])).toBe(false);
    expect(isLocalInferenceUrl('https://api.openai.com/', ['x@api.openai.com'])).toBe(false);
  });
});
