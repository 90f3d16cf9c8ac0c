import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { configureApi } from './api.js';
import { loadConsoleConfig } from './consoleConfig.js';
import './style.css';

// On AWS the deployment's config.json names the API; locally there is none (a 404) and the origin is the API.
void loadConsoleConfig(window.location.origin).then((config) => {
  configureApi(config);
  createRoot(document.getElementById('root') as HTMLElement).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
});
