import { afterEach } from 'vitest';
import { cleanup } from '@testing-library/react';
import { clearLearnedTokens } from '../src/lib/tokens';
import { FakeSocket } from './fakes';

afterEach(() => {
  cleanup();
  FakeSocket.instances = [];
  clearLearnedTokens();
  sessionStorage.clear();
  localStorage.clear();
  window.location.hash = '';
});
