import './zod-setup'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App'
import { ClientProvider } from './hooks/useClient'
import { initTheme } from './ui/theme'
import { createClient } from './transport/client'
import './styles.css'

// Before the first render, so the page never flashes in the other theme.
initTheme()

const container = document.getElementById('root')
if (!container) throw new Error('index.html has no #root element')

const client = createClient()

createRoot(container).render(
  <StrictMode>
    <ClientProvider client={client}>
      <App />
    </ClientProvider>
  </StrictMode>,
)
